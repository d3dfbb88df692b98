"""Users as respond.io models them: ``GET /v2/space/user`` (cursor pagination) and
``GET /v2/space/user/{id}``, and a contact's ``assignee`` set by user id or email and
answered as ``{id, firstName, lastName, email}`` (one contact and the list)."""

from __future__ import annotations

from typing import Any

from conftest import Workspace, assert_error, of_contact

from tests.support.events import EventTap

ROLES = ("owner", "manager", "agent")


async def test_every_role_reads_the_workspace_users(ws: Workspace, other_ws: Workspace) -> None:
    for client in (ws.owner, ws.manager, ws.agent):
        answer = await client.get("/v2/space/user")
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert [u["role"] for u in page["items"]] == list(ROLES)
        assert page["pagination"] == {"next": None, "previous": None}
    owner = page["items"][0]
    assert set(owner) == {"id", "firstName", "lastName", "email", "role", "team",
                          "restrictions"}
    assert isinstance(owner["id"], int) and owner["team"] is None
    assert owner["restrictions"] == []
    assert owner["firstName"] and owner["lastName"] and owner["email"].startswith("owner@")
    assert (await ws.agent.get(f"/v2/space/user/{owner['id']}")).json() == owner

    theirs = (await other_ws.owner.get("/v2/space/user")).json()["items"]
    assert {u["email"] for u in theirs}.isdisjoint({u["email"] for u in page["items"]})
    missing = await ws.owner.get("/v2/space/user/999")
    assert_error(missing, 404, "999")
    for odd in ("0", "x", str(2**63), "１"):
        answer = await ws.owner.get(f"/v2/space/user/{odd}")
        assert answer.status_code == 422, (odd, answer.text)


async def test_users_are_cursor_paginated(ws: Workspace) -> None:
    first = (await ws.owner.get("/v2/space/user", params={"limit": 2})).json()
    assert [u["role"] for u in first["items"]] == ["owner", "manager"]
    assert first["pagination"]["previous"] is None
    nxt = first["pagination"]["next"]
    assert nxt.startswith("http") and "cursorId=" in nxt
    second = (await ws.owner.get(nxt)).json()
    assert [u["role"] for u in second["items"]] == ["agent"]
    assert second["pagination"]["next"] is None
    back = (await ws.owner.get(second["pagination"]["previous"])).json()
    assert back["items"] == first["items"]
    for params in ({"limit": 0}, {"limit": 101}, {"cursorId": 2**63},
                   {"cursorId": 1, "beforeId": 3}):
        answer = await ws.owner.get("/v2/space/user", params=params)
        assert_error(answer, 422)


async def test_an_assignee_is_set_by_id_or_email_and_shown_as_the_user(
    ws: Workspace, tap: EventTap
) -> None:
    users: dict[str, dict[str, Any]] = {
        u["role"]: u for u in (await ws.owner.get("/v2/space/user")).json()["items"]}
    shown = {role: {k: u[k] for k in ("id", "firstName", "lastName", "email")}
             for role, u in users.items()}
    ann = await ws.create("email:ann@example.com", {"assignee": users["agent"]["id"]})
    bob = await ws.create("email:bob@example.com",
                          {"assignee": users["manager"]["email"].upper()})
    carl = await ws.create("email:carl@example.com")
    assert (await ws.get(ann))["assignee"] == shown["agent"]
    assert (await ws.get(bob))["assignee"] == shown["manager"]
    assert (await ws.get(carl))["assignee"] is None

    answer = await ws.agent.post(f"/v2/contact/create_or_update/id:{carl}",
                                 json={"assignee": users["owner"]["email"]})
    assert answer.status_code == 200, answer.text
    page = await ws.list({}, limit=10)
    assert {c["id"]: c["assignee"] for c in page["items"]} == {
        ann: shown["agent"], bob: shown["manager"], carl: shown["owner"]}

    by_assignee = await ws.list_ids({"filter": {"$and": [{
        "category": "contactField", "field": "assignee", "operator": "isEqualTo",
        "value": users["manager"]["id"]}]}})
    assert by_assignee == [bob]

    events = await tap.wait_for(4, workspace_id=ws.id)
    assert of_contact(events, ann)[0].data.contact.assignee == users["agent"]["id"]
    assert of_contact(events, bob)[0].data.contact.assignee == users["manager"]["id"]
    assert of_contact(events, carl)[-1].data.contact.assignee == users["owner"]["id"]


async def test_an_unknown_assignee_is_a_422_naming_it(ws: Workspace) -> None:
    cid = await ws.create("email:ann@example.com")
    for unknown in (999, "nobody@example.com"):
        for method, path in (("PUT", f"/v2/contact/id:{cid}"),
                             ("POST", "/v2/contact/email:bob@example.com"),
                             ("POST", "/v2/contact/create_or_update/email:bob@example.com")):
            answer = await ws.owner.request(method, path, json={"assignee": unknown})
            assert_error(answer, 422, "assignee", str(unknown))
    assert await ws.list_ids() == [cid]
