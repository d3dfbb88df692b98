"""Retries never duplicate: an `Idempotency-Key` on a POST that acts replays the first answer.

Through the gateway: the same key from the same workspace within 24 h answers what the first
request got (status and body, `Idempotent-Replayed: true`) and changes nothing again; the
same key with another request is a 422; keys of two workspaces never meet; a refused
request stores nothing (its retry is evaluated again); no key, no change of behaviour.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from conftest import Workspace, assert_error, of_contact, types

from tests.support.events import EventTap

KEY = "Idempotency-Key"


def new_key() -> str:
    return f"retry-{uuid.uuid4()}"


async def post(client: httpx.AsyncClient, path: str, body: Any = None, *,
               key: str | bytes | None) -> httpx.Response:
    headers = {KEY: key} if key is not None else {}
    if body is None:
        return await client.post(path, headers=headers)
    return await client.post(path, json=body, headers=headers)


async def test_a_create_sent_twice_with_one_key_creates_one_contact(
    ws: Workspace, tap: EventTap
) -> None:
    key = new_key()
    body = {"firstName": "Ann", "lastName": "Retry"}
    first = await post(ws.owner, "/v2/contact/email:ann@example.com", body, key=key)
    again = await post(ws.owner, "/v2/contact/email:ann@example.com", body, key=key)

    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    cid = first.json()["contactId"]
    assert await ws.list_ids() == [cid]
    events = await tap.wait_for(1, workspace_id=ws.id, settle_s=1.0)
    assert types(events) == ["contact.created"]

    # Another user of the same workspace retrying with the key gets the same answer.
    other_user = await post(ws.agent, "/v2/contact/email:ann@example.com", body, key=key)
    assert other_user.json() == {"contactId": cid}
    # A replay allocated no id: the next create takes the next one.
    assert await ws.create("email:bob@example.com") == cid + 1


async def test_concurrent_creates_with_one_key_create_one_contact(
    ws: Workspace, tap: EventTap
) -> None:
    key = new_key()
    answers = await asyncio.gather(*(
        post(ws.owner, "/v2/contact/phone:+33612345678", {"firstName": "Racer"}, key=key)
        for _ in range(5)
    ))
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    ids = {a.json()["contactId"] for a in answers}
    assert len(ids) == 1, ids
    assert sum(1 for a in answers if a.headers.get("Idempotent-Replayed") == "true") == 4
    assert await ws.list_ids() == list(ids)
    events = await tap.wait_for(1, workspace_id=ws.id, settle_s=1.0)
    assert types(events) == ["contact.created"]


async def test_the_same_key_with_another_request_is_a_422(ws: Workspace) -> None:
    key = new_key()
    first = await post(ws.owner, "/v2/contact/email:ann@example.com", {"firstName": "Ann"},
                       key=key)
    assert first.status_code == 200, first.text
    for path, body in [
        ("/v2/contact/email:ann@example.com", {"firstName": "Anne"}),  # another body
        ("/v2/contact/email:bob@example.com", {"firstName": "Ann"}),   # another path
        (f"/v2/contact/id:{first.json()['contactId']}/block", None),   # another route
    ]:
        assert_error(await post(ws.owner, path, body, key=key), 422, KEY, key)
    assert await ws.list_ids({"blocked": None}) == [first.json()["contactId"]]


async def test_keys_of_two_workspaces_are_independent(
    ws: Workspace, other_ws: Workspace
) -> None:
    key = new_key()
    mine = await post(ws.owner, "/v2/contact/email:ann@example.com", {}, key=key)
    theirs = await post(other_ws.owner, "/v2/contact/email:ann@example.com", {}, key=key)
    assert mine.status_code == theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs.headers
    assert await ws.list_ids() == [mine.json()["contactId"]]
    assert await other_ws.list_ids() == [theirs.json()["contactId"]]


async def test_without_a_key_every_create_creates(ws: Workspace) -> None:
    body = {"firstName": "Ann"}
    first = await post(ws.owner, "/v2/contact/email:ann@example.com", body, key=None)
    again = await post(ws.owner, "/v2/contact/email:ann@example.com", body, key=None)
    assert first.status_code == again.status_code == 200
    assert first.json() != again.json()
    assert len(await ws.list_ids()) == 2


async def test_a_refused_request_stores_nothing_and_can_be_corrected(ws: Workspace) -> None:
    key = new_key()
    refused = await post(ws.owner, "/v2/contact/email:ann@example.com",
                         {"email": "someone.else@example.com"}, key=key)
    assert_error(refused, 422, "email")
    corrected = await post(ws.owner, "/v2/contact/email:ann@example.com", {"firstName": "Ann"},
                           key=key)
    assert corrected.status_code == 200, corrected.text
    assert "Idempotent-Replayed" not in corrected.headers
    missing = await post(ws.owner, "/v2/contact/id:999999/block", None, key=new_key())
    assert_error(missing, 404)


async def test_actions_replay_too(ws: Workspace, tap: EventTap) -> None:
    cid = await ws.create("email:ann@example.com")
    block_key, tag_key, upsert_key = new_key(), new_key(), new_key()
    for _ in range(2):
        blocked = await post(ws.owner, f"/v2/contact/id:{cid}/block", None, key=block_key)
        tagged = await post(ws.owner, f"/v2/contact/id:{cid}/tag", ["vip"], key=tag_key)
        upserted = await post(ws.owner, "/v2/contact/create_or_update/email:new@example.com",
                              {"firstName": "New"}, key=upsert_key)
        for answer in (blocked, tagged, upserted):
            assert answer.status_code == 200, answer.text
        assert blocked.json() == tagged.json() == {"contactId": cid}
    assert upserted.headers["Idempotent-Replayed"] == "true"
    # Unblocking, then replaying the block key, does not block again: it only answers.
    unblocked = await post(ws.owner, f"/v2/contact/id:{cid}/unblock", None, key=None)
    assert unblocked.status_code == 200
    replay = await post(ws.owner, f"/v2/contact/id:{cid}/block", None, key=block_key)
    assert replay.json() == {"contactId": cid}
    assert (await ws.get(cid))["blocked"] is False

    events = await tap.wait_for(5, workspace_id=ws.id, settle_s=1.0)
    assert types(of_contact(events, cid)) == [
        "contact.created", "contact.blocked", "contact.tags_changed", "contact.unblocked"]
    assert types(events).count("contact.created") == 2


async def test_a_malformed_key_is_a_400(ws: Workspace) -> None:
    for key in ["", "k" * 256, "caf\u00e9".encode(), b"a\x01b"]:
        answer = await post(ws.owner, "/v2/contact/email:ann@example.com", {}, key=key)
        assert_error(answer, 400, KEY)  # by the gateway, before the contacts service
    assert await ws.list_ids() == []
    ok = await post(ws.owner, "/v2/contact/email:ann@example.com", {}, key="k" * 255)
    assert ok.status_code == 200, ok.text


async def test_catalog_creates_replay_their_first_answer(ws: Workspace) -> None:
    """A tag or custom field created twice with one key: one entry, the same 201 answer;
    concurrently too."""
    for path, body, listing in (
        ("/v2/space/tag", {"name": "Retried", "colorCode": "#112233"}, "/v2/space/tag"),
        ("/v2/space/custom_field", {"name": "Retried", "dataType": "text"},
         "/v2/space/custom_field?limit=100"),
    ):
        key = new_key()
        first = await post(ws.owner, path, body, key=key)
        again = await post(ws.owner, path, body, key=key)
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        other = await post(ws.owner, path, {**body, "name": "Other"}, key=key)
        assert_error(other, 422, "Idempotency-Key")

        twins = await asyncio.gather(*(post(ws.owner, path, {**body, "name": "Twin"},
                                            key=f"{key}-twin") for _ in range(2)))
        assert [t.status_code for t in twins] == [201, 201], [t.text for t in twins]
        assert twins[0].json() == twins[1].json()

        listed = (await ws.owner.get(listing)).json()
        items = listed["items"] if isinstance(listed, dict) else listed
        names = [item["name"] for item in items]
        assert names.count("Retried") == 1 and names.count("Twin") == 1, names
