"""Roles match the product (issue 7): a role matrix over every row of the gateway's route
table, read from the table itself (every ``ROUTES`` of ``services.gateway.routes``), so a new
row is covered the day it is added.

For each route and role: a role the row allows is never answered 403 (and, for the routes
this file knows how to call well, gets a 2xx); a role it does not allow is always a 403
naming the role. The tag catalog, custom field definitions and the field order are workspace
settings (owners, managers); agents still assign (creating on assign) and remove tags. The
owning service enforces the same rule on its own: called directly with an agent's identity,
it refuses too.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

import services.gateway.routes as route_tables
from services.gateway.routing import Route
from shared.api.roles import ROLES, Role
from shared.internal import Caller
from tests.e2e.contacts.conftest import Workspace
from tests.fixtures.stack import JointFixture

#: Body of a call of a route, built (with whatever it needs set up first) for one workspace.
BodyFor = Callable[[Workspace], Awaitable[Any]]


def table() -> list[Route]:
    """Every row of every route table of the gateway."""
    rows: list[Route] = []
    for module in pkgutil.iter_modules(route_tables.__path__):
        loaded = importlib.import_module(f"{route_tables.__name__}.{module.name}")
        rows.extend(getattr(loaded, "ROUTES", ()))
    return rows


def fresh(prefix: str) -> str:
    """A name no other call of the test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def new_tag(ws: Workspace) -> str:
    """A catalog tag, made by the owner."""
    name = fresh("tag")
    assert (await ws.owner.post("/v2/space/tag", json={"name": name})).status_code == 201
    return name


async def _rename_body(ws: Workspace) -> Any:
    return {"currentName": await new_tag(ws), "colorCode": "#112233"}


async def _delete_tag_body(ws: Workspace) -> Any:
    return {"name": await new_tag(ws)}


async def _constant(value: Any) -> Any:
    return value


#: Bodies that make a call succeed for an allowed role, by route name. Other rows are called
#: with their documented example (or ``{}``): any answer but a 403 passes for them.
BODIES: dict[str, BodyFor] = {
    "list_contacts": lambda ws: _constant({}),
    "upsert_contact": lambda ws: _constant({"firstName": "Ann"}),
    "create_contact": lambda ws: _constant({"firstName": "Ann"}),
    "update_contact": lambda ws: _constant({"firstName": "Bob"}),
    "add_tags": lambda ws: _constant(["vip", fresh("new")]),  # a new name joins the catalog
    "remove_tags": lambda ws: _constant(["vip"]),
    "create_tag": lambda ws: _constant({"name": fresh("tag")}),
    "update_tag": _rename_body,
    "delete_tag": _delete_tag_body,
    "create_custom_field": lambda ws: _constant({"name": fresh("Field"), "dataType": "text"}),
    "set_field_order": lambda ws: _constant({"fields": []}),
    "connect_channel": lambda ws: _constant({"name": fresh("Chat"), "source": "webchat"}),
}
#: Routes whose ``{identifier}`` names a contact to create, not an existing one.
CREATING = frozenset({"create_contact", "upsert_contact"})
KNOWN_WITHOUT_BODY = frozenset({
    "get_contact", "delete_contact", "block_contact", "unblock_contact", "list_tags",
    "list_custom_fields", "get_field_order", "list_channels", "delete_channel",
    "list_messages",
})  # fmt: skip


async def _new_channel(ws: Workspace) -> int:
    """A channel, connected by the owner."""
    answer = await ws.owner.post("/v2/space/channel",
                                 json={"name": fresh("Chat"), "source": "webchat"})
    assert answer.status_code == 201, answer.text
    channel_id: int = answer.json()["id"]
    return channel_id


#: Routes whose ``{id}`` names something to make first, by route name.
ID_MAKERS: dict[str, Callable[[Workspace], Awaitable[int]]] = {
    "delete_channel": _new_channel,
}


@pytest.fixture
async def ws(workspace: dict[str, Any], system: JointFixture) -> AsyncIterator[Workspace]:
    """A fresh workspace with a client per role."""
    system.require("contacts", "gateway")
    space = Workspace(system=system, id=workspace["workspace_id"], tokens=workspace["tokens"])
    try:
        yield space
    finally:
        await space.close()


async def call_of(ws: Workspace, route: Route) -> tuple[str, Any]:
    """The path and body of one call of ``route`` (a fresh contact for ``{identifier}``)."""
    path = route.path
    if "{identifier}" in route.path:
        email = f"email:{fresh('ann')}@example.com"
        if route.name in CREATING:
            identifier = email
        else:
            identifier = f"id:{await ws.create(email)}"
            if route.name == "remove_tags":
                await ws.add_tags(identifier, ["vip"])
        path = path.replace("{identifier}", identifier)
    if route.name in ID_MAKERS:
        path = path.replace("{id}", str(await ID_MAKERS[route.name](ws)))
    # A message the contact does not have: any answer but a 403 (a 404 here) passes.
    path = path.replace("{messageId}", "1")
    if route.name in BODIES:
        return path, await BODIES[route.name](ws)
    if route.body is None:
        return path, None
    return path, route.body_example if route.body_example is not None else {}


def test_the_table_has_rows_and_every_role_is_known() -> None:
    rows = table()
    assert {"delete_contact", "create_tag", "set_field_order", "connect_channel",
            "delete_channel", "list_messages", "get_message"} <= {r.name for r in rows}
    for row in rows:
        assert row.roles and set(row.roles) <= set(ROLES), row.name


async def test_role_matrix_over_every_route_of_the_gateway(ws: Workspace) -> None:
    clients: dict[Role, httpx.AsyncClient] = {"owner": ws.owner, "manager": ws.manager,
                                              "agent": ws.agent}
    wrong: list[str] = []
    for route in table():
        for role in ROLES:
            path, body = await call_of(ws, route)
            answer = await clients[role].request(route.method, path, json=body)
            where = f"{role} {route.method} {path} ({route.name}): {answer.status_code}"
            if role not in route.roles:
                if answer.status_code != 403 or role not in answer.json().get("message", ""):
                    wrong.append(f"{where}, expected 403: {answer.text[:200]}")
            elif answer.status_code == 403:
                wrong.append(f"{where}, a role the row allows: {answer.text[:200]}")
            elif (route.name in BODIES or route.name in KNOWN_WITHOUT_BODY) and (
                answer.status_code >= 400
            ):
                wrong.append(f"{where}, expected a 2xx: {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)


async def test_agents_assign_create_on_assign_and_remove_tags_but_not_the_catalog(
    ws: Workspace,
) -> None:
    await new_tag(ws)
    cid = await ws.create("email:ann@example.com", client=ws.agent)
    name = fresh("brand-new")
    answer = await ws.agent.post(f"/v2/contact/id:{cid}/tag", json=[name])
    assert answer.status_code == 200, answer.text
    catalog = {t["name"] for t in (await ws.agent.get("/v2/space/tag")).json()}
    assert name in catalog  # created on assign, by an agent
    answer = await ws.agent.request("DELETE", f"/v2/contact/id:{cid}/tag", json=[name])
    assert answer.status_code == 200, answer.text
    assert (await ws.get(cid))["tags"] == []
    for method, path, body in (("PUT", "/v2/space/tag", {"currentName": name, "name": "x"}),
                               ("DELETE", "/v2/space/tag", {"name": name}),
                               ("POST", "/v2/space/tag", {"name": "other"}),
                               ("POST", "/v2/space/custom_field",
                                {"name": "F", "dataType": "text"}),
                               ("PUT", "/v2/space/contact_field_order", {"fields": []})):
        answer = await ws.agent.request(method, path, json=body)
        assert answer.status_code == 403, answer.text
        assert "agent" in answer.json()["message"]
    assert {t["name"] for t in (await ws.owner.get("/v2/space/tag")).json()} == catalog
    assert (await ws.owner.get("/v2/space/custom_field")).json()["items"] == []


async def test_the_owning_service_refuses_a_disallowed_role_on_its_own(
    ws: Workspace, system: JointFixture,
) -> None:
    """Called directly (as the gateway would, with the internal token), the service answers
    403 to every row the role may not use: it never relies on the gateway's check alone."""
    restricted = [r for r in table() if "agent" not in r.roles and not r.resolve_contact]
    assert restricted
    agent = Caller(workspace_id=ws.id, user_id="usr_agent", role="agent")
    headers = agent.headers(system.internal_token)
    wrong: list[str] = []
    for route in restricted:
        path, body = await call_of(ws, route)
        async with httpx.AsyncClient(base_url=system.service_url(route.service),
                                     timeout=30) as service:
            answer = await service.request(route.method, path, json=body, headers=headers)
        if answer.status_code != 403:
            wrong.append(f"{route.service} {route.method} {path}: {answer.status_code} "
                         f"{answer.text[:200]}")
    assert not wrong, "\n".join(wrong)
