"""Declarative gateway routes: a row becomes a documented route that checks the caller and
forwards the call as sent; a "resolve the contact" row asks contacts once, then forwards
``id:N`` and the contact's phone and email to the owner.

The services behind the gateway are one fake HTTP server on 127.0.0.1 (each service under
its own path prefix) that records every call it receives and answers like the contacts
service would.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from services.gateway.auth import Gateway, install_rate_limit_headers
from services.gateway.forwarding import check_assignee
from services.gateway.rate_limit import FixedWindowLimiter
from services.gateway.routes import contacts, space
from services.gateway.routing import Route, register
from services.gateway.settings import GatewaySettings, ServiceUrls
from services.gateway.upstream import Services
from shared.api.contacts import ContactAction, ContactInput
from shared.api.roles import MANAGERS
from shared.errors import install_error_handlers
from shared.internal import (
    CONTACT_EMAIL_HEADER,
    CONTACT_ID_HEADER,
    CONTACT_PHONE_HEADER,
    INTERNAL_TOKEN_HEADER,
    WORKSPACE_HEADER,
    Caller,
    ResolvedContact,
    resolved_contact,
)

INTERNAL_TOKEN = "internal-" + "x" * 32
TOKENS = {
    "cht_owner": Caller(workspace_id="ws_a", user_id="1", role="owner"),
    "cht_agent": Caller(workspace_id="ws_a", user_id="3", role="agent"),
    "cht_other": Caller(workspace_id="ws_b", user_id="1", role="owner"),
}
#: Users of each workspace as the store shows them.
USERS = {
    "ws_a": [{"id": 1, "firstName": "Olivia", "lastName": "Owner", "email": "owner@a.example",
              "role": "owner", "team": None, "restrictions": []},
             {"id": 3, "firstName": "Ada", "lastName": "Agent", "email": "agent@a.example",
              "role": "agent", "team": None, "restrictions": []}],
    "ws_b": [{"id": 1, "firstName": "Bo", "lastName": "Owner", "email": "owner@b.example",
              "role": "owner", "team": None, "restrictions": []}],
}
#: Contacts of workspace ws_a as the contacts service would answer them.
CONTACTS_OF_A = {
    "id:7": {"id": 7, "firstName": "Ann", "phone": "+33612345678", "email": "ann@exämple.com",
             "tags": [], "custom_fields": [], "created_at": 1, "blocked": False},
}
CONTACTS_OF_A["id:8"] = {"id": 8, "firstName": "Bob", "assignee": 3, "tags": [],
                         "custom_fields": [], "created_at": 1, "blocked": False}
CONTACTS_OF_A["id:9"] = {**CONTACTS_OF_A["id:8"], "id": 9, "assignee": 2}  # a user gone
CONTACTS_OF_A["email:ann%40ex%C3%A4mple.com"] = CONTACTS_OF_A["id:7"]
CONTACTS_OF_A["phone:%2B33612345678"] = CONTACTS_OF_A["id:7"]

#: Rows like the ones the channels and merge issues will add.
OTHER_ROUTES = (
    Route(method="GET", path="/v2/contact/{identifier}/channels", service="channels",
          name="list_channels", summary="Channels of a contact", resolve_contact=True),
    Route(method="POST", path="/v2/contact/{identifier}/message", service="channels",
          name="send_message", summary="Send a message", body=dict[str, Any],
          resolve_contact=True),
    Route(method="DELETE", path="/v2/contact/{identifier}/merge_suggestions", service="merge",
          name="dismiss_suggestions", summary="Dismiss merge suggestions", roles=MANAGERS,
          resolve_contact=True),
    Route(method="PUT", path="/v2/thing/{identifier}", service="merge", name="put_thing",
          summary="A body with an assignee check", answer=ContactAction, body=ContactInput,
          checks=(check_assignee,)),
    Route(method="GET", path="/v2/slow", service="deletion", name="slow", summary="Slow"),
    Route(method="GET", path="/v2/chunked", service="deletion", name="chunked",
          summary="A chunked answer"),
)


@dataclass(frozen=True)
class Received:
    """One call a fake service received."""

    service: str
    method: str
    target: bytes
    headers: httpx.Headers
    content: bytes


@dataclass
class Upstream:
    """Every service behind the gateway (``/<service>/…``): records calls, answers like
    contacts."""

    calls: list[Received] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An ASGI app: record the call, answer it."""
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        _, service, rest = scope["raw_path"].split(b"/", 2)
        target = b"/" + rest + (b"?" + scope["query_string"] if scope["query_string"] else b"")
        headers = httpx.Headers([(k.decode(), v.decode()) for k, v in scope["headers"]])
        call = Received(service.decode(), scope["method"], target, headers, body)
        self.calls.append(call)
        status, answer, extra = self.answer(call)
        if target == b"/v2/chunked":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            for part in (b'{"parts": ', b"[1, 2", b", 3]}"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if target == b"/v2/slow":
            await asyncio.sleep(1.0)
        raw = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
            *((k.encode(), v.encode()) for k, v in extra.items())]})
        await send({"type": "http.response.body", "body": raw})

    def answer(self, call: Received) -> tuple[int, Any, dict[str, str]]:
        """What a service answers: contacts' GET of a contact, else ``{"ok": true}``."""
        if call.service == "contacts" and call.method == "GET":
            identifier = call.target.decode().split("/")[3]
            if call.headers["x-workspace-id"] != "ws_a" or identifier not in CONTACTS_OF_A:
                return 404, {"code": 404, "message": "contact not found"}, {}
            return 200, CONTACTS_OF_A[identifier], {"X-Identifier-Matches": "2"}
        return 200, {"ok": True}, {"Set-Cookie": "not=passed"}

    def to(self, service: str) -> list[Received]:
        """The calls one service received."""
        return [c for c in self.calls if c.service == service]


class FakeStore:
    """The gateway's users and tokens."""

    async def caller_for_token(self, token: str) -> Caller | None:
        return TOKENS.get(token)

    async def users_of(self, workspace_id: str, **_: Any) -> list[dict[str, Any]]:
        return USERS.get(workspace_id, [])


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[tuple[Upstream, int]]:
    """The fake services, served by uvicorn on a free 127.0.0.1 port."""
    fake = Upstream()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(fake, log_config=None, access_log=False,
                                           timeout_keep_alive=1))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(1000):  # up in a few ms; bounded
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield fake, int(sock.getsockname()[1])
    server.should_exit = True
    await task


@pytest.fixture
async def calls(upstream: tuple[Upstream, int]) -> Upstream:
    """The fake services, with no call recorded yet."""
    upstream[0].calls.clear()
    return upstream[0]


def gateway_app(port: int, **settings: Any) -> tuple[FastAPI, Services]:
    """A gateway app with the real rows and ``OTHER_ROUTES``, in front of the fakes."""
    app = _app()
    urls = ServiceUrls(**{s: f"http://127.0.0.1:{port}/{s}"
                          for s in ("contacts", "channels", "merge", "deletion")})
    config = GatewaySettings(internal_token=INTERNAL_TOKEN, public_url="https://api.test",
                             service_urls=urls, **settings)
    services = Services(config)
    fake: Any = FakeStore()
    app.state.gateway = Gateway(store=fake, services=services,
                                limiter=FixedWindowLimiter(1000, 1.0))
    return app, services


@functools.cache
def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_rate_limit_headers(app)
    register(app, contacts.ROUTES, tag="contacts")
    register(app, space.ROUTES, tag="workspace")
    register(app, OTHER_ROUTES, tag="others")
    return app


@pytest.fixture
async def client(upstream: tuple[Upstream, int], calls: Upstream
                 ) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the gateway app (a fresh gateway state per test)."""
    app, services = gateway_app(upstream[1], service_timeout_s=0.5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gateway.test") as http:
        yield http
    await services.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_resolving_route_asks_contacts_once_and_forwards_id_phone_and_email(
    client: httpx.AsyncClient, calls: Upstream
) -> None:
    answer = await client.get("/v2/contact/email:ann%40ex%C3%A4mple.com/channels?limit=5",
                              headers=bearer("cht_agent"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True}
    assert "set-cookie" not in answer.headers
    assert answer.headers["X-RateLimit-Remaining"] == "999"

    [asked] = calls.to("contacts")
    assert asked.method == "GET"
    assert asked.target == b"/v2/contact/email:ann%40ex%C3%A4mple.com"
    assert asked.headers[INTERNAL_TOKEN_HEADER] == INTERNAL_TOKEN
    assert asked.headers[WORKSPACE_HEADER] == "ws_a"
    [sent] = calls.to("channels")
    assert (sent.method, sent.target) == ("GET", b"/v2/contact/id:7/channels?limit=5")
    assert sent.headers[CONTACT_ID_HEADER] == "7"
    assert sent.headers[INTERNAL_TOKEN_HEADER] == INTERNAL_TOKEN
    assert sent.headers["X-User-Role"] == "agent"
    # What the owner reads back with shared.internal.resolved_contact: the values as stored.
    contact = await resolved_contact(
        x_contact_id=int(sent.headers[CONTACT_ID_HEADER]),
        x_contact_phone=sent.headers[CONTACT_PHONE_HEADER],
        x_contact_email=sent.headers[CONTACT_EMAIL_HEADER],
    )
    assert contact == ResolvedContact(id=7, phone="+33612345678", email="ann@exämple.com")


async def test_a_resolving_route_forwards_the_body_as_sent(
    client: httpx.AsyncClient, calls: Upstream
) -> None:
    body = b'{"text":  "h\\u00e9llo",\n "n": 1.50}'
    answer = await client.post("/v2/contact/phone:%2B33612345678/message", content=body,
                               headers=bearer("cht_owner"))
    assert answer.status_code == 200, answer.text
    [sent] = calls.to("channels")
    assert sent.target == b"/v2/contact/id:7/message"
    assert sent.content == body, "the gateway forwards the bytes, never re-serialises them"
    assert sent.headers["Content-Type"] == "application/json"


async def test_a_missing_or_foreign_contact_is_the_same_404_and_the_owner_is_not_called(
    client: httpx.AsyncClient, calls: Upstream
) -> None:
    missing = await client.get("/v2/contact/id:999/channels", headers=bearer("cht_owner"))
    foreign = await client.get("/v2/contact/id:7/channels", headers=bearer("cht_other"))
    for answer in (missing, foreign):
        assert answer.status_code == 404, answer.text
        assert answer.json() == {"code": 404, "message": "contact not found"}
    assert len(calls.to("contacts")) == 2
    assert calls.to("channels") == []


async def test_roles_of_a_row_are_checked_before_anything_is_asked(
    client: httpx.AsyncClient, calls: Upstream
) -> None:
    answer = await client.delete("/v2/contact/id:7/merge_suggestions",
                                 headers=bearer("cht_agent"))
    assert answer.status_code == 403, answer.text
    assert "agent" in answer.json()["message"]
    assert calls.calls == []
    answer = await client.delete("/v2/contact/id:7/merge_suggestions",
                                 headers=bearer("cht_owner"))
    assert answer.status_code == 200, answer.text
    assert [c.target for c in calls.to("merge")] == [
        b"/v2/contact/id:7/merge_suggestions"]


async def test_a_contacts_row_forwards_path_query_and_answer_unchanged(
    client: httpx.AsyncClient, calls: Upstream
) -> None:
    answer = await client.get("/v2/contact/email:ann%40ex%C3%A4mple.com",
                              headers=bearer("cht_owner"))
    assert answer.status_code == 200
    assert answer.headers["X-Identifier-Matches"] == "2"
    assert answer.json()["id"] == 7
    listing = await client.post("/v2/contact/list?limit=3&cursorId=9", headers=bearer("cht_owner"))
    assert listing.status_code == 200, listing.text
    sent = calls.to("contacts")[-1]
    assert sent.target == b"/v2/contact/list?limit=3&cursorId=9"
    assert sent.content == b"{}", "a missing optional body goes on as {}"
    assert sent.headers["X-Public-Url"] == "https://api.test"


async def test_a_contact_shows_its_assignee_as_the_user(client: httpx.AsyncClient) -> None:
    owner = bearer("cht_owner")
    assigned = await client.get("/v2/contact/id:8", headers=owner)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee"] == {"id": 3, "firstName": "Ada", "lastName": "Agent",
                                           "email": "agent@a.example"}
    assert assigned.headers["X-Identifier-Matches"] == "2", "the owner's headers stay"
    assert (await client.get("/v2/contact/id:9", headers=owner)).json()["assignee"] is None
    unassigned = await client.get("/v2/contact/id:7", headers=owner)
    assert "assignee" not in unassigned.json(), "nothing to show: passed on unparsed"


async def test_the_gateway_checks_what_it_documents(
    client: httpx.AsyncClient, calls: Upstream
) -> None:
    owner = bearer("cht_owner")
    assert (await client.get("/v2/contact/id:7")).status_code == 401
    bad_limit = await client.post("/v2/contact/list?limit=101", headers=owner)
    assert bad_limit.status_code == 422 and "limit" in bad_limit.json()["message"]
    not_json = await client.put("/v2/contact/id:7", headers=owner, content=b"{nope")
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["message"]
    assert not_json.headers["X-RateLimit-Limit"] == "1000"
    missing = await client.post("/v2/contact/id:7/tag", headers=owner)
    assert missing.status_code == 400 and "required" in missing.json()["message"]
    for unknown in ("owner@b.example", 2, 2**63, 0, True, "usr_agent", [3]):
        stranger = await client.put("/v2/thing/x", headers=owner, json={"assignee": unknown})
        assert stranger.status_code == 422, (unknown, stranger.text)
        assert "assignee" in stranger.json()["message"], unknown
    by_id = await client.put("/v2/thing/x", headers=owner, json={"assignee": 3})
    assert by_id.status_code == 200, by_id.text
    by_email = await client.put("/v2/thing/x", headers=owner,
                                json={"assignee": "Agent@A.example", "firstName": "é"})
    assert by_email.status_code == 200, by_email.text
    assert [c.target for c in calls.calls] == [b"/v2/thing/x"] * 2
    assert calls.calls[0].content == by_id.request.content, "an id goes on as sent"
    assert json.loads(calls.calls[1].content) == {"assignee": 3, "firstName": "é"}


def test_every_row_is_documented_with_its_parameters_and_body() -> None:
    app = FastAPI()
    register(app, OTHER_ROUTES, tag="others")
    paths = app.openapi()["paths"]
    channels = paths["/v2/contact/{identifier}/channels"]["get"]
    assert channels["summary"] == "Channels of a contact"
    assert {p["name"] for p in channels["parameters"]} == {"identifier", "authorization"}
    assert {"401", "403", "404", "422", "429"} <= set(channels["responses"])
    thing = paths["/v2/thing/{identifier}"]["put"]
    assert "firstName" in thing["requestBody"]["content"]["application/json"]["schema"][
        "properties"]


def test_a_row_that_cannot_be_served_is_refused_at_start() -> None:
    app = FastAPI()
    with pytest.raises(ValueError, match="no service"):
        register(app, [Route(method="GET", path="/v2/x", service="billing", name="x",
                             summary="x")], tag="x")
    with pytest.raises(ValueError, match="nothing to resolve"):
        register(app, [Route(method="GET", path="/v2/contact/{identifier}/x",
                             service="contacts", name="x", summary="x",
                             resolve_contact=True)], tag="x")


async def test_a_chunked_answer_is_read_whole(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v2/chunked", headers=bearer("cht_owner"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"parts": [1, 2, 3]}


async def test_a_slow_or_missing_service_is_a_503_naming_it(
    client: httpx.AsyncClient, upstream: tuple[Upstream, int]
) -> None:
    slow = await client.get("/v2/slow", headers=bearer("cht_owner"))
    assert slow.status_code == 503 and slow.headers["Retry-After"] == "1"
    assert "deletion" in slow.json()["message"] and "in time" in slow.json()["message"]
    assert (await client.get("/v2/chunked", headers=bearer("cht_owner"))).status_code == 200

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        app, services = gateway_app(closed.getsockname()[1])  # the same app, now in front
        down = await client.get("/v2/contact/id:7", headers=bearer("cht_owner"))  # of nothing
        await services.close()
    assert down.status_code == 503, down.text
    assert down.json()["message"] == "the contacts service is unavailable; retry later"


async def test_a_kept_alive_connection_the_service_closed_is_replaced(
    client: httpx.AsyncClient, calls: Upstream
) -> None:
    first = await client.post("/v2/contact/id:7/block", headers=bearer("cht_owner"))
    await asyncio.sleep(1.3)  # the fake closes connections idle for 1 s
    second = await client.post("/v2/contact/id:7/block", headers=bearer("cht_owner"))
    assert (first.status_code, second.status_code) == (200, 200), second.text
    assert len(calls.to("contacts")) == 2, "each call reached the service exactly once"
