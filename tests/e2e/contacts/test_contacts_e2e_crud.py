"""Create, get, update, upsert and delete a contact by `id:`, `email:` and `phone:`, end to end.

Through the public gateway against the real servers; events are read from the topic.
"""

from __future__ import annotations

import asyncio
import time

from conftest import Workspace, assert_error, of_contact, types

from tests.support.events import EventTap


async def test_create_then_get_by_each_identifier(ws: Workspace, tap: EventTap) -> None:
    before = int(time.time())
    ann = await ws.create("email:ann@example.com", {"firstName": "Ann", "lastName": "Lee"})
    bob = await ws.create("phone:+33612345678", {"firstName": "Bob", "language": "fr"})
    assert bob > ann

    by_id = await ws.get(ann)
    assert by_id == {
        "id": ann, "firstName": "Ann", "lastName": "Lee", "phone": None,
        "email": "ann@example.com", "language": None, "profilePic": None, "countryCode": None,
        "status": None, "tags": [], "assignee": None, "lifecycle": None, "custom_fields": [],
        "created_at": by_id["created_at"], "blocked": False,
    }
    assert before - 1 <= by_id["created_at"] <= int(time.time()) + 1
    assert (await ws.get("email:ann@example.com"))["id"] == ann

    for spelled in ("phone:+33612345678", "phone:+33 6 12 34 56 78", "phone:06 12 34 56 78"):
        answer = await ws.owner.get(f"/v2/contact/{spelled}")
        assert answer.status_code == 200, (spelled, answer.text)
        contact = answer.json()
        assert (contact["id"], contact["phone"], contact["countryCode"]) == (
            bob, "+33612345678", "FR"), spelled
        assert answer.headers["X-Identifier-Matches"] == "1"
        assert "X-Identifier-Resolution" not in answer.headers

    # every role may create and read
    carl = await ws.create("email:carl@example.com", client=ws.agent)
    assert (await ws.agent.get(f"/v2/contact/id:{carl}")).json()["email"] == "carl@example.com"

    events = await tap.wait_for(3, workspace_id=ws.id)
    assert types(events) == ["contact.created"] * 3
    assert sorted(e.data.contact_id for e in events) == [ann, bob, carl]
    assert all(e.data.version == 1 for e in events)
    (created_bob,) = (e.data.contact for e in of_contact(events, bob))
    assert (created_bob.phone, created_bob.country_code, created_bob.language) == (
        "+33612345678", "FR", "fr")


async def test_lookups_that_match_nothing_or_are_malformed(ws: Workspace) -> None:
    await ws.create("email:ann@example.com")
    for missing in ("id:999", "email:nobody@example.com", "phone:+33699999999"):
        assert_error(await ws.owner.get(f"/v2/contact/{missing}"), 404, "identifier")
    for malformed, field in (("ann@example.com", "identifier"), ("id:abc", "identifier"),
                             ("id:0", "identifier"), ("name:ann", "identifier"),
                             ("email:not-an-email", "email"), ("phone:12", "phone")):
        assert_error(await ws.owner.get(f"/v2/contact/{malformed}"), 422, field)


async def test_create_refuses_id_identifier_and_contradicting_body(ws: Workspace,
                                                                   tap: EventTap) -> None:
    assert_error(await ws.owner.post("/v2/contact/id:5", json={}), 422, "identifier", "id:5")
    answer = await ws.owner.post("/v2/contact/email:ann@example.com",
                                 json={"email": "other@example.com"})
    assert_error(answer, 422, "email", "other@example.com")
    # same address, other case: not a contradiction
    ann = await ws.create("email:ann@example.com", {"email": "Ann@Example.com"})
    assert (await ws.get(ann))["email"] == "Ann@Example.com"
    assert await ws.list_ids() == [ann]
    events = await tap.wait_for(1, workspace_id=ws.id)
    assert types(events) == ["contact.created"]


async def test_partial_update_by_each_identifier(ws: Workspace, tap: EventTap) -> None:
    cid = await ws.create("email:ann@example.com", {"firstName": "Ann", "lastName": "Lee",
                                                      "phone": "+33612345678"})
    assert await ws.update(cid, {"firstName": "Anne"}) == cid
    assert await ws.update("email:ANN@example.com", {"language": "en-gb"}) == cid
    assert await ws.update("phone:06 12 34 56 78", {"profilePic": "https://cdn.example.com/a.png"}
                           ) == cid
    contact = await ws.get(cid)
    assert (contact["firstName"], contact["lastName"], contact["language"],
            contact["profilePic"]) == ("Anne", "Lee", "en-GB", "https://cdn.example.com/a.png")

    # null clears; absent fields stay
    assert await ws.update(cid, {"lastName": None, "language": None}) == cid
    contact = await ws.get(cid)
    assert (contact["firstName"], contact["lastName"], contact["language"]) == ("Anne", None, None)

    # changing the email changes what email: finds
    await ws.update(cid, {"email": "anne@example.org"})
    assert_error(await ws.owner.get("/v2/contact/email:ann@example.com"), 404)
    assert (await ws.get("email:anne@example.org"))["id"] == cid

    assert_error(await ws.owner.put("/v2/contact/id:999", json={"firstName": "X"}), 404)
    assert_error(await ws.owner.put(f"/v2/contact/id:{cid}", content=b"{not json"), 400, "JSON")
    assert_error(await ws.owner.put(f"/v2/contact/id:{cid}"), 400, "body")

    events = await tap.wait_for(6, workspace_id=ws.id)
    assert types(events) == ["contact.created"] + ["contact.updated"] * 5
    assert [e.data.version for e in events] == [1, 2, 3, 4, 5, 6]
    assert [tuple(e.data.changed) for e in events[1:]] == [
        ("firstName",), ("language",), ("profilePic",), ("lastName", "language"), ("email",)]


async def test_upsert_creates_then_updates(ws: Workspace, tap: EventTap) -> None:
    answer = await ws.owner.post("/v2/contact/create_or_update/email:zoe@example.com",
                                 json={"firstName": "Zoe"})
    assert answer.status_code == 200, answer.text
    zoe = answer.json()["contactId"]
    answer = await ws.owner.post("/v2/contact/create_or_update/email:ZOE@example.com",
                                 json={"lastName": "Ray"})
    assert answer.json() == {"contactId": zoe}
    contact = await ws.get(zoe)
    assert (contact["firstName"], contact["lastName"], contact["email"]) == (
        "Zoe", "Ray", "zoe@example.com")

    answer = await ws.agent.post("/v2/contact/create_or_update/phone:+44 1481 256789", json={})
    assert answer.status_code == 200, answer.text
    guernsey = answer.json()["contactId"]
    assert guernsey != zoe
    answer = await ws.agent.post("/v2/contact/create_or_update/phone:+441481256789",
                                 json={"firstName": "Gus"})
    assert answer.json() == {"contactId": guernsey}

    answer = await ws.owner.post(f"/v2/contact/create_or_update/id:{zoe}",
                                 json={"language": "es"})
    assert answer.json() == {"contactId": zoe}
    assert (await ws.get(zoe))["language"] == "es"
    # an id cannot create: there is no contact to update
    assert_error(await ws.owner.post("/v2/contact/create_or_update/id:999", json={}), 404)
    # the same values again change nothing
    answer = await ws.owner.post("/v2/contact/create_or_update/email:zoe@example.com",
                                 json={"firstName": "Zoe", "lastName": "Ray"})
    assert answer.json() == {"contactId": zoe}
    assert sorted(await ws.list_ids()) == sorted([zoe, guernsey])

    events = await tap.wait_for(5, workspace_id=ws.id)
    assert types(of_contact(events, zoe)) == [
        "contact.created", "contact.updated", "contact.updated"]
    assert [e.data.version for e in of_contact(events, zoe)] == [1, 2, 3]
    assert types(of_contact(events, guernsey)) == ["contact.created", "contact.updated"]
    assert len(events) == 5


async def test_delete_by_each_identifier(ws: Workspace, tap: EventTap) -> None:
    by_id = await ws.create("email:a@example.com")
    by_email = await ws.create("email:b@example.com")
    by_phone = await ws.create("phone:+33612345678")
    for client, identifier, cid in (
        (ws.owner, f"id:{by_id}", by_id),
        (ws.manager, "email:B@EXAMPLE.COM", by_email),
        (ws.owner, "phone:06 12 34 56 78", by_phone),
    ):
        answer = await client.delete(f"/v2/contact/{identifier}")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"contactId": cid}
        assert_error(await ws.owner.get(f"/v2/contact/id:{cid}"), 404)
        assert_error(await ws.owner.get(f"/v2/contact/{identifier}"), 404)
        assert_error(await client.delete(f"/v2/contact/{identifier}"), 404)
    assert await ws.list_ids() == []
    # ids of deleted contacts are never given again
    assert await ws.create("email:a@example.com") > by_phone

    events = await tap.wait_for(7, workspace_id=ws.id)
    for cid, email, phone in ((by_id, "a@example.com", None), (by_email, "b@example.com", None),
                              (by_phone, None, "+33612345678")):
        assert types(of_contact(events, cid)) == ["contact.created", "contact.deleted"]
        deleted = of_contact(events, cid)[1].data
        assert (deleted.version, deleted.email, deleted.phone) == (2, email, phone)


async def test_ids_are_unique_and_increasing_per_workspace(ws: Workspace,
                                                           other_ws: Workspace) -> None:
    ids = [await ws.create(f"email:c{i}@example.com") for i in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert all(b > a for a, b in zip(ids, ids[1:], strict=False))
    # the other workspace has its own sequence
    assert await other_ws.create("email:c0@example.com") == 1


async def test_twenty_concurrent_creates_get_twenty_distinct_ids(ws: Workspace,
                                                                 tap: EventTap) -> None:
    clients = [ws.owner, ws.manager, ws.agent]

    async def one(i: int) -> int:
        return await ws.create(f"email:burst{i}@example.com", {"firstName": f"B{i}"},
                               client=clients[i % 3])

    ids = await asyncio.gather(*(one(i) for i in range(20)))
    assert len(set(ids)) == 20
    assert sorted(ids) == list(range(min(ids), min(ids) + 20))  # no gaps, no repeats
    listed = await ws.list_ids()
    assert sorted(listed) == sorted(ids)
    for i, cid in enumerate(ids):
        assert (await ws.get(f"email:burst{i}@example.com"))["id"] == cid

    events = await tap.wait_for(20, workspace_id=ws.id)
    assert types(events) == ["contact.created"] * 20
    assert sorted(e.data.contact_id for e in events) == sorted(ids)
    assert {e.data.version for e in events} == {1}


async def test_duplicate_email_and_phone_resolve_to_the_oldest(ws: Workspace) -> None:
    first = await ws.create("email:dup@example.com", {"phone": "+33612345678"})
    second = await ws.create("email:DUP@example.com", {"phone": "06 12 34 56 78"})
    third = await ws.create("phone:+33 6 12 34 56 78")
    assert first < second < third

    answer = await ws.owner.get("/v2/contact/email:dup@example.com")
    assert answer.json()["id"] == first
    assert answer.headers["X-Identifier-Matches"] == "2"
    assert answer.headers["X-Identifier-Resolution"] == "oldest"
    answer = await ws.owner.get("/v2/contact/phone:0612345678")
    assert answer.json()["id"] == first
    assert answer.headers["X-Identifier-Matches"] == "3"
    assert answer.headers["X-Identifier-Resolution"] == "oldest"
    # by id there is never more than one
    answer = await ws.owner.get(f"/v2/contact/id:{second}")
    assert answer.headers["X-Identifier-Matches"] == "1"

    # writes by email:/phone: go to the oldest too
    await ws.update("email:dup@example.com", {"firstName": "Oldest"})
    answer = await ws.owner.post("/v2/contact/create_or_update/phone:+33612345678",
                                 json={"lastName": "Also oldest"})
    assert answer.json() == {"contactId": first}
    assert (await ws.get(second))["firstName"] is None
    assert (await ws.get(first))["lastName"] == "Also oldest"

    # once the oldest is gone, the next oldest answers
    assert (await ws.owner.delete("/v2/contact/email:dup@example.com")).json() == {
        "contactId": first}
    answer = await ws.owner.get("/v2/contact/email:dup@example.com")
    assert answer.json()["id"] == second
    assert answer.headers["X-Identifier-Matches"] == "1"
    assert "X-Identifier-Resolution" not in answer.headers
    answer = await ws.owner.get("/v2/contact/phone:+33612345678")
    assert (answer.json()["id"], answer.headers["X-Identifier-Matches"]) == (second, "2")


async def test_email_lookup_is_case_insensitive_and_stores_as_given(ws: Workspace) -> None:
    ann = await ws.create("email:ann@example.com")
    mixed = await ws.create("email:Ann.Lee+News@Example.COM")
    assert (await ws.get("email:ANN@EXAMPLE.COM"))["id"] == ann
    contact = await ws.get("email:ann.lee+news@example.com")
    assert contact["id"] == mixed
    assert contact["email"] == "Ann.Lee+News@Example.COM"
    # the whole address is the key: no dot or plus stripping
    for other in ("email:annlee+news@example.com", "email:ann.lee@example.com"):
        assert_error(await ws.owner.get(f"/v2/contact/{other}"), 404)
    await ws.update(ann, {"email": "ANN@example.com"})
    assert (await ws.get(ann))["email"] == "ANN@example.com"


async def test_read_only_and_unknown_fields_are_refused(ws: Workspace, tap: EventTap) -> None:
    cid = await ws.create("email:ann@example.com", {"firstName": "Ann"})
    before = await ws.get(cid)
    for body, field in (({"status": "open"}, "status"), ({"blocked": True}, "blocked"),
                        ({"id": 7}, "id"), ({"tags": ["vip"]}, "tags"),
                        ({"created_at": 1}, "created_at"), ({"nickname": "A"}, "nickname")):
        assert_error(await ws.owner.put(f"/v2/contact/id:{cid}", json=body), 422, field)
        assert_error(await ws.owner.post(f"/v2/contact/create_or_update/id:{cid}", json=body),
                     422, field)
        assert_error(await ws.owner.post("/v2/contact/email:new@example.com", json=body), 422,
                     field)
        assert_error(await ws.owner.post("/v2/contact/create_or_update/email:new@example.com",
                                         json=body), 422, field)
    assert await ws.get(cid) == before
    assert await ws.list_ids() == [cid]
    assert_error(await ws.owner.put(f"/v2/contact/id:{cid}", json=["firstName"]), 422, "body")

    await ws.update(cid, {"firstName": "sentinel"})
    events = await tap.wait_for(2, workspace_id=ws.id)
    assert types(events) == ["contact.created", "contact.updated"]
    assert events[1].data.version == 2


async def test_assignee_must_be_a_user_of_the_workspace(ws: Workspace, other_ws: Workspace,
                                                        tap: EventTap) -> None:
    users = await ws.user_ids()
    strangers = await other_ws.user_ids()
    assert set(users) == {"owner", "manager", "agent"}
    cid = await ws.create("email:ann@example.com", {"assignee": users["agent"]})
    assert (await ws.get(cid))["assignee"]["id"] == users["agent"]
    await ws.update(cid, {"assignee": users["manager"]})
    assert (await ws.get(cid))["assignee"]["id"] == users["manager"]

    foreign = (await other_ws.owner.get(f"/v2/space/user/{strangers['agent']}")).json()
    for unknown in (999, "nobody@example.com", foreign["email"]):
        answer = await ws.owner.put(f"/v2/contact/id:{cid}", json={"assignee": unknown})
        assert_error(answer, 422, "assignee", str(unknown))
        assert (await ws.get(cid))["assignee"]["id"] == users["manager"]
        answer = await ws.owner.post("/v2/contact/email:bob@example.com",
                                     json={"assignee": unknown})
        assert_error(answer, 422, "assignee", str(unknown))
        answer = await ws.owner.post("/v2/contact/create_or_update/email:bob@example.com",
                                     json={"assignee": unknown})
        assert_error(answer, 422, "assignee", str(unknown))
    for odd in ("usr_1", 2**63, 0, True, "2", [2]):
        assert_error(await ws.owner.put(f"/v2/contact/id:{cid}", json={"assignee": odd}), 422,
                     "assignee")
    assert await ws.list_ids() == [cid]

    await ws.update(cid, {"assignee": None})
    assert (await ws.get(cid))["assignee"] is None
    events = await tap.wait_for(3, workspace_id=ws.id)
    assert types(events) == ["contact.created", "contact.updated", "contact.updated"]
    assert [tuple(e.data.changed) for e in events[1:]] == [("assignee",), ("assignee",)]
