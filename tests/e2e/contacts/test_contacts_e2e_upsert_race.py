"""Concurrent upserts of one new identifier create one contact, not one each."""

from __future__ import annotations

import asyncio

from conftest import Workspace, of_contact, types

from tests.support.events import EventTap


async def test_concurrent_upserts_of_a_new_email_create_one_contact(
    ws: Workspace, tap: EventTap
) -> None:
    async def upsert(i: int) -> int:
        answer = await ws.owner.post("/v2/contact/create_or_update/email:race@example.com",
                                     json={"firstName": f"Racer{i}"})
        assert answer.status_code == 200, answer.text
        contact_id: int = answer.json()["contactId"]
        return contact_id

    ids = await asyncio.gather(*(upsert(i) for i in range(10)))
    assert len(set(ids)) == 1, ids
    (cid,) = set(ids)
    assert await ws.list_ids({"search": "race@example.com"}) == [cid]
    answer = await ws.owner.get("/v2/contact/email:race@example.com")
    assert answer.headers["X-Identifier-Matches"] == "1"

    events = await tap.wait_for(1, workspace_id=ws.id, settle_s=1.5)
    assert types(events).count("contact.created") == 1
    assert {e.data.contact_id for e in events} == {cid}
    # every other upsert updated the one contact (or changed nothing): versions follow
    mine = of_contact(events, cid)
    assert [e.data.version for e in mine] == list(range(1, len(mine) + 1))


async def test_concurrent_upserts_of_a_new_phone_create_one_contact(ws: Workspace) -> None:
    async def upsert() -> int:
        answer = await ws.owner.post("/v2/contact/create_or_update/phone:+33612345678", json={})
        assert answer.status_code == 200, answer.text
        contact_id: int = answer.json()["contactId"]
        return contact_id

    ids = await asyncio.gather(*(upsert() for _ in range(10)))
    assert len(set(ids)) == 1, ids
    # plain creates still allow a duplicate on purpose (merge suggestions)
    assert await ws.create("phone:+33612345678") != ids[0]
