"""Block / unblock, delete with its role rule, and workspace isolation on every contact route."""

from __future__ import annotations

import httpx
from conftest import Workspace, assert_error, of_contact, types

from tests.support.events import EventTap


async def test_block_and_unblock(ws: Workspace, tap: EventTap) -> None:
    users = await ws.user_ids()
    cid = await ws.create("email:ann@example.com", {"phone": "+33612345678"})
    other = await ws.create("email:bob@example.com")

    answer = await ws.agent.post(f"/v2/contact/id:{cid}/block")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"contactId": cid}
    assert (await ws.get(cid))["blocked"] is True
    # twice: same answer, nothing changes
    answer = await ws.owner.post("/v2/contact/email:ANN@example.com/block")
    assert answer.json() == {"contactId": cid}

    # blocked contacts are listed apart
    assert await ws.list_ids({"blocked": True}) == [cid]
    assert await ws.list_ids({"blocked": False}) == [other]
    assert await ws.list_ids() == [other]  # the default list leaves blocked contacts out
    assert sorted(await ws.list_ids({"blocked": None})) == sorted([cid, other])
    assert_error(await ws.owner.post("/v2/contact/list", json={"blocked": "yes"}), 422,
                 "blocked")
    # still readable and editable while blocked
    await ws.update(cid, {"firstName": "Ann"})

    answer = await ws.manager.post("/v2/contact/phone:06 12 34 56 78/unblock")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"contactId": cid}
    assert (await ws.get(cid))["blocked"] is False
    answer = await ws.manager.post(f"/v2/contact/id:{cid}/unblock")
    assert answer.json() == {"contactId": cid}
    assert await ws.list_ids({"blocked": True}) == []
    # unblocking a contact that never was blocked changes nothing either
    assert (await ws.owner.post(f"/v2/contact/id:{other}/unblock")).status_code == 200
    assert_error(await ws.owner.post("/v2/contact/id:999/block"), 404)

    published = await tap.wait_for(5, workspace_id=ws.id)
    assert types(of_contact(published, other)) == ["contact.created"]
    assert len(published) == 5
    events = of_contact(published, cid)
    assert types(events) == ["contact.created", "contact.blocked", "contact.updated",
                             "contact.unblocked"]
    assert [e.data.version for e in events] == [1, 2, 3, 4]
    assert events[1].data.blocked_by == str(users["agent"])
    assert events[2].data.contact.blocked is True
    assert events[3].data.unblocked_by == str(users["manager"])


async def test_delete_is_for_owners_and_managers(ws: Workspace, tap: EventTap) -> None:
    users = await ws.user_ids()
    cid = await ws.create("email:ann@example.com", {"phone": "+33612345678"})
    await ws.update(cid, {"firstName": "Ann"})

    for identifier in (f"id:{cid}", "email:ann@example.com", "phone:+33612345678", "id:999"):
        answer = await ws.agent.delete(f"/v2/contact/{identifier}")
        assert_error(answer, 403, "agent")
    assert (await ws.get(cid))["firstName"] == "Ann"

    answer = await ws.manager.delete(f"/v2/contact/id:{cid}")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"contactId": cid}
    assert_error(await ws.owner.get(f"/v2/contact/id:{cid}"), 404)
    assert_error(await ws.owner.get("/v2/contact/email:ann@example.com"), 404)
    assert_error(await ws.owner.put(f"/v2/contact/id:{cid}", json={"firstName": "X"}), 404)
    assert_error(await ws.owner.post(f"/v2/contact/id:{cid}/block"), 404)
    assert await ws.list_ids() == []

    owned = await ws.create("phone:+33612345679")
    assert (await ws.owner.delete(f"/v2/contact/id:{owned}")).json() == {"contactId": owned}

    events = await tap.wait_for(5, workspace_id=ws.id)
    mine = of_contact(events, cid)
    assert types(mine) == ["contact.created", "contact.updated", "contact.deleted"]
    deleted = mine[2].data
    assert (deleted.version, deleted.deleted_by, deleted.email, deleted.phone) == (
        3, str(users["manager"]), "ann@example.com", "+33612345678")
    assert mine[2].subject == f"contact/{cid}"
    assert types(of_contact(events, owned)) == ["contact.created", "contact.deleted"]
    assert len(events) == 5


async def _every_route(client: httpx.AsyncClient, identifier: str) -> list[httpx.Response]:
    """Every contact route with ``identifier`` (upsert only by id: by email/phone it creates)."""
    path = f"/v2/contact/{identifier}"
    answers = [
        await client.get(path),
        await client.put(path, json={"firstName": "Mallory"}),
        await client.delete(path),
        await client.post(f"{path}/tag", json=["stolen"]),
        await client.request("DELETE", f"{path}/tag", json=["vip"]),
        await client.post(f"{path}/block"),
        await client.post(f"{path}/unblock"),
    ]
    if identifier.startswith("id:"):
        answers.append(await client.post(f"/v2/contact/create_or_update/{identifier}",
                                         json={"firstName": "Mallory"}))
    return answers


async def test_contacts_of_another_workspace_are_404_on_every_route(
    ws: Workspace, other_ws: Workspace, tap: EventTap
) -> None:
    await ws.create("email:first@example.com")
    cid = await ws.create("email:ann@example.com", {"phone": "+33612345678",
                                                      "firstName": "Ann"})
    await ws.add_tags(cid, ["vip"])
    await ws.owner.post(f"/v2/contact/id:{cid}/block")
    before = await ws.get(cid)
    assert cid == 2  # the other workspace has no contact 2 (nor any contact at all)

    for identifier in (f"id:{cid}", "email:ann@example.com", "phone:+33612345678"):
        answers = await _every_route(other_ws.owner, identifier)
        for answer in answers:
            assert_error(answer, 404)
            assert answer.json()["message"].startswith("identifier"), answer.text
    # a missing contact of one's own workspace answers exactly the same
    own_missing = await _every_route(ws.owner, "id:999")
    foreign = await _every_route(other_ws.owner, f"id:{cid}")
    assert len(foreign) == 8
    assert [(a.status_code, a.json()["message"]) for a in own_missing] == [
        (a.status_code, a.json()["message"].replace(f"id:{cid}", "id:999")) for a in foreign]
    assert await ws.get(cid) == before

    # the other workspace sees nothing of it in lists, lookups or the catalog
    assert await other_ws.list_ids() == []
    assert await other_ws.list_ids({"blocked": True}) == []
    assert await other_ws.list_ids({"search": "ann"}) == []
    assert (await other_ws.owner.get("/v2/space/tag")).json() == []
    # an upsert by email there creates that workspace's own contact, ours is untouched
    answer = await other_ws.owner.post("/v2/contact/create_or_update/email:ann@example.com",
                                       json={"firstName": "Other Ann"})
    assert answer.json() == {"contactId": 1}
    assert (await other_ws.get(1))["firstName"] == "Other Ann"
    assert await ws.get(cid) == before

    events = await tap.wait_for(4, workspace_id=ws.id)
    assert types(of_contact(events, cid)) == ["contact.created", "contact.tags_changed",
                                              "contact.blocked"]
    assert len(events) == 4
    theirs = await tap.wait_for(1, workspace_id=other_ws.id)
    assert types(theirs) == ["contact.created"]
