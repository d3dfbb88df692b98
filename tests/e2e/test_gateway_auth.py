"""The gateway's front door, end to end (DESIGN §4): authentication, workspace scoping,
roles, rate limits, request ids, health, a service that is down, the internal API.

Everything goes over HTTP to the running stack (``system``), except the "service down"
case, which needs a second gateway whose contacts URL points at a closed port: that one
is built in-process from the stack's own gateway settings and called through
``httpx.ASGITransport``.
"""

from __future__ import annotations

import asyncio
import random
import socket
import string
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from deploy.local.stack import SERVICES_BY_NAME, service_env
from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings
from shared.internal import INTERNAL_TOKEN_HEADER, ROLE_HEADER, USER_HEADER, WORKSPACE_HEADER
from tests.fixtures.stack import JointFixture

BURST = 130  # beyond the default 100 requests per second and token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of ``token``."""
    return {"Authorization": f"Bearer {token}"}


def error_of(answer: httpx.Response, code: int) -> str:
    """Assert ``answer`` is the error ``code`` in the ``{code, message}`` shape; its message."""
    assert answer.status_code == code, (answer.status_code, answer.text)
    body = answer.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"], body
    assert "Traceback" not in answer.text
    assert answer.headers.get("X-Request-ID"), "every answer carries a request id"
    return str(body["message"])


@pytest.fixture
async def gateway(system: JointFixture) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the running gateway."""
    system.require("gateway", "contacts")
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as client:
        yield client


async def create_contact(gateway: httpx.AsyncClient, token: str, **fields: Any) -> int:
    """A new contact (by email) of the token's workspace; its id."""
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    answer = await gateway.post(f"/v2/contact/email:{email}", headers=bearer(token),
                                json={"firstName": "Ann", **fields})
    assert answer.status_code == 200, answer.text
    contact_id: int = answer.json()["contactId"]
    return contact_id


# ----------------------------------------------------------------- authentication


async def test_a_call_without_a_valid_bearer_token_is_401(
    gateway: httpx.AsyncClient, workspace: dict[str, Any]
) -> None:
    contact_id = await create_contact(gateway, workspace["tokens"]["owner"])
    path = f"/v2/contact/id:{contact_id}"

    missing = await gateway.get(path)
    assert "Authorization" in error_of(missing, 401)
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="contacthub"'  # RFC 6750
    assert "Authorization" in error_of(await gateway.delete(path), 401)
    assert "Authorization" in error_of(await gateway.post("/v2/contact/list", json={}), 401)

    token = workspace["tokens"]["owner"]
    for malformed in (token, f"Token {token}", f"Basic {token}", "Bearer",
                      f"Bearer{token}"):
        answer = await gateway.get(path, headers={"Authorization": malformed})
        message = error_of(answer, 401)
        assert "Bearer <token>" in message, (malformed, message)
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="contacthub"'

    for wrong in ("cht_not-a-token", token + "x", token[:-1], "x" * 200):
        answer = await gateway.get(path, headers=bearer(wrong))
        message = error_of(answer, 401)
        assert message == "the API token is not valid", message
        assert answer.headers["WWW-Authenticate"] == (
            'Bearer realm="contacthub", error="invalid_token"')

    # The same request with the real token goes through.
    answer = await gateway.get(path, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == contact_id


# ----------------------------------------------------------------- workspace scoping


async def test_a_contact_of_another_workspace_is_a_404_exactly_like_a_missing_one(
    gateway: httpx.AsyncClient, workspace: dict[str, Any], system: JointFixture
) -> None:
    owner_a = workspace["tokens"]["owner"]
    other = await asyncio.to_thread(system.create_workspace)
    owner_b = other["tokens"]["owner"]
    email = f"scoped-{uuid.uuid4().hex[:8]}@example.com"
    created = await gateway.post(f"/v2/contact/email:{email}", headers=bearer(owner_a),
                                 json={"firstName": "Ann", "lastName": "Lee"})
    assert created.status_code == 200, created.text
    contact_id = created.json()["contactId"]
    path = f"/v2/contact/id:{contact_id}"

    calls: list[tuple[str, str, Any]] = [
        ("GET", path, None),
        ("GET", f"/v2/contact/email:{email}", None),
        ("PUT", path, {"firstName": "Mallory"}),
        ("POST", f"{path}/tag", ["stolen"]),
        ("DELETE", f"{path}/tag", ["stolen"]),
        ("POST", f"{path}/block", None),
        ("POST", f"{path}/unblock", None),
        ("DELETE", path, None),
    ]

    async def answers(token: str) -> list[tuple[int, Any]]:
        out = []
        for method, url, body in calls:
            answer = await gateway.request(method, url, headers=bearer(token), json=body)
            error_of(answer, 404)
            out.append((answer.status_code, answer.json()))
        return out

    # Workspace B's owner, on A's contact: 404 for every call, and nothing changed.
    from_b = await answers(owner_b)
    seen_by_a = (await gateway.get(path, headers=bearer(owner_a))).json()
    assert (seen_by_a["firstName"], seen_by_a["tags"], seen_by_a["blocked"]) == ("Ann", [], False)

    # Now the contact really is missing (A deletes it): A gets the very same answers as B did.
    deleted = await gateway.delete(path, headers=bearer(owner_a))
    assert deleted.status_code == 200 and deleted.json() == {"contactId": contact_id}
    missing_for_a = await answers(owner_a)
    assert from_b == missing_for_a
    assert await answers(owner_b) == from_b


# ----------------------------------------------------------------- roles


async def test_an_agent_may_not_delete_a_contact_but_a_manager_may(
    gateway: httpx.AsyncClient, workspace: dict[str, Any]
) -> None:
    tokens = workspace["tokens"]
    contact_id = await create_contact(gateway, tokens["owner"])
    path = f"/v2/contact/id:{contact_id}"

    message = error_of(await gateway.delete(path, headers=bearer(tokens["agent"])), 403)
    assert "agent" in message, message
    still_there = await gateway.get(path, headers=bearer(tokens["agent"]))
    assert still_there.status_code == 200, "the agent may read it, and it was not deleted"

    answer = await gateway.delete(path, headers=bearer(tokens["manager"]))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"contactId": contact_id}
    error_of(await gateway.get(path, headers=bearer(tokens["owner"])), 404)


# ----------------------------------------------------------------- rate limit


async def test_a_burst_beyond_the_rate_limit_gets_429_with_retry_after(
    gateway: httpx.AsyncClient, workspace: dict[str, Any]
) -> None:
    token = workspace["tokens"]["agent"]  # a fresh token: its window is ours alone
    contact_id = await create_contact(gateway, workspace["tokens"]["owner"])
    path = f"/v2/contact/id:{contact_id}"

    # An ordinary answer carries the limit and what is left of it.
    first = await gateway.get(path, headers=bearer(token))
    assert first.status_code == 200, first.text
    assert first.headers["X-RateLimit-Limit"] == "100"
    assert first.headers["X-RateLimit-Remaining"] == "99"

    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30, limits=limits) as burst:
        # Open the connections first (401s cost nothing), and let the first window pass.
        opened = await asyncio.gather(*(burst.get(path) for _ in range(BURST)))
        assert {a.status_code for a in opened} == {401}
        await asyncio.sleep(1.1)
        # The burst: requests the gateway counts and then answers itself (400, the body is
        # not JSON), so what is measured is the limiter, not the contacts service's speed.
        # On a loaded machine the gateway may answer 130 requests in more than the 1 s
        # window; then another burst follows at once (bounded: at most 4 bursts).
        bursts: list[list[httpx.Response]] = []
        started = time.monotonic()
        for _ in range(4):
            bursts.append(list(await asyncio.gather(
                *(burst.put(path, headers=bearer(token), content=b"{not json")
                  for _ in range(BURST))
            )))
            if any(a.status_code == 429 for a in bursts[-1]):
                break
        took = time.monotonic() - started

    answers = [a for answered in bursts for a in answered]
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {400, 429}, statuses
    assert statuses[429] > 0, (
        f"no request of {len(answers)} was limited: {statuses} in {took:.2f}s "
        f"({len(answers) / took:.0f} requests/s; the limit is 100/s)"
    )
    retry_after = []
    for answer in answers:
        assert answer.headers.get("X-Request-ID")
        assert answer.headers["X-RateLimit-Limit"] == "100"
        remaining = int(answer.headers["X-RateLimit-Remaining"])
        if answer.status_code == 429:
            assert "rate limit" in error_of(answer, 429)
            assert remaining == 0
            retry_after.append(int(answer.headers["Retry-After"]))
        else:
            assert "not valid JSON" in error_of(answer, 400)
            assert 0 <= remaining < 100
    assert set(retry_after) == {1}, retry_after  # the window is 1 s
    in_first = Counter(a.status_code for a in bursts[0])
    if in_first[400] == 100:  # the first burst fell into one window: each request counted once
        remaining_of_allowed = sorted(int(a.headers["X-RateLimit-Remaining"])
                                      for a in bursts[0] if a.status_code == 400)
        assert remaining_of_allowed == list(range(100))
        assert in_first[429] == BURST - 100

    # After Retry-After seconds the token is served again, with a fresh window.
    await asyncio.sleep(max(retry_after))
    again = await gateway.get(path, headers=bearer(token))
    assert again.status_code == 200, again.text
    assert again.headers["X-RateLimit-Remaining"] == "99"


# ----------------------------------------------------------------- request ids, health


async def test_every_answer_has_a_request_id_and_a_sent_one_is_kept(
    gateway: httpx.AsyncClient, workspace: dict[str, Any]
) -> None:
    token = workspace["tokens"]["owner"]
    answers = [
        await gateway.get("/health"),
        await gateway.get("/v2/contact/id:1"),
        await gateway.get("/v2/contact/id:999999", headers=bearer(token)),
        await gateway.post("/v2/contact/list", headers=bearer(token), json={}),
        await gateway.get("/no/such/route"),
    ]
    ids = [a.headers.get("X-Request-ID") for a in answers]
    assert all(ids), ids
    assert len(set(ids)) == len(ids), "a fresh id per request"

    mine = f"req-{uuid.uuid4().hex}"
    answer = await gateway.get("/v2/contact/id:999999",
                               headers={**bearer(token), "X-Request-ID": mine})
    error_of(answer, 404)
    assert answer.headers["X-Request-ID"] == mine


async def test_gateway_health_is_200_with_every_check_ok(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/health")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"mongodb", "contacts", "channels", "merge", "deletion"}
    assert all(v == "ok" for v in body["checks"].values()), body


# ----------------------------------------------------------------- a service that is down


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A 127.0.0.1 port that refuses connections: bound (so nobody else takes it), never
    listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


async def test_a_service_that_is_down_is_a_503_naming_it(
    system: JointFixture, workspace: dict[str, Any], closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The stack's own gateway settings (same database, same internal token), except that
    # the contacts service is where nothing answers.
    for name, value in service_env(system.config, SERVICES_BY_NAME["gateway"]).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GATEWAY_SERVICE_URLS__CONTACTS", f"http://127.0.0.1:{closed_port}")
    settings = GatewaySettings()  # type: ignore[call-arg]
    assert settings.service_urls.contacts.endswith(f":{closed_port}")
    app = build_app(settings)
    token = workspace["tokens"]["owner"]

    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        calls: list[tuple[str, str, Any]] = [("GET", "/v2/contact/id:1", None),
                                             ("POST", "/v2/contact/list", {}),
                                             ("POST", "/v2/contact/email:x@example.com", {})]
        for method, path, body in calls:
            answer = await client.request(method, path, headers=bearer(token), json=body)
            message = error_of(answer, 503)
            assert "contacts" in message and "unavailable" in message, message
            assert str(closed_port) not in message, "no internal address leaks out"
            assert answer.headers.get("Retry-After") == "1"

        # Auth still works without the service: a bad token is still a 401, not a 503.
        error_of(await client.get("/v2/contact/id:1", headers=bearer("cht_bad")), 401)

        health = await client.get("/health")
        assert health.status_code == 503
        checks = health.json()["checks"]
        assert checks["contacts"].startswith("down"), checks
        assert all(v == "ok" for k, v in checks.items() if k != "contacts"), checks


# ----------------------------------------------------------------- internal API


async def test_a_service_internal_api_refuses_calls_without_the_internal_token(
    system: JointFixture, workspace: dict[str, Any]
) -> None:
    system.require("contacts")
    caller = {WORKSPACE_HEADER: workspace["workspace_id"], USER_HEADER: "usr_x",
              ROLE_HEADER: "owner"}
    async with httpx.AsyncClient(base_url=system.service_url("contacts"), timeout=30) as client:
        calls: list[tuple[str, str, Any]] = [("GET", "/v2/contact/id:1", None),
                                             ("POST", "/v2/contact/list", {}),
                                             ("DELETE", "/v2/contact/id:1", None),
                                             ("POST", "/v2/contact/email:x@example.com", {})]
        for method, path, body in calls:
            message = error_of(await client.request(method, path, headers=caller, json=body), 401)
            assert "internal token" in message, message
            wrong = {**caller, INTERNAL_TOKEN_HEADER: system.internal_token + "x"}
            error_of(await client.request(method, path, headers=wrong, json=body), 401)
            # A bearer token of the public API is no internal token either.
            public = {**caller, **bearer(workspace["tokens"]["owner"])}
            error_of(await client.request(method, path, headers=public, json=body), 401)

        # With the token the same call is served (the contact does not exist: 404, not 401).
        right = {**caller, INTERNAL_TOKEN_HEADER: system.internal_token}
        error_of(await client.get("/v2/contact/id:999999", headers=right), 404)
        # Health stays open for the orchestrator.
        assert (await client.get("/health")).status_code == 200


# ----------------------------------------------------------------- abuse limits


async def token_lookups(gateway: httpx.AsyncClient) -> float:
    """The gateway's ``contacthub_gateway_token_lookups_total`` (every outcome) from /metrics."""
    answer = await gateway.get("/metrics")
    assert answer.status_code == 200
    return sum(float(line.rsplit(" ", 1)[1]) for line in answer.text.splitlines()
               if line.startswith("contacthub_gateway_token_lookups_total{"))


async def test_a_flood_of_bad_tokens_costs_no_lookup_and_locks_nobody_out(
    gateway: httpx.AsyncClient, workspace: dict[str, Any],
) -> None:
    """500 bad tokens from one address, then a valid token the gateway has not cached → 200.

    A token unused for 30 s is out of the gateway's 10 s token cache; the agent token here
    was never used at all, so it is in exactly that state (and the lookup it costs is
    counted below). What the flood may cost is documented in docs/architecture.md: nothing
    for a token the gateway did not sign, one lookup per gateway process per minute for a
    signed token that is no longer valid (here: one revoked token, sent 20 times)."""
    owner = workspace["tokens"]["owner"]
    issued = await gateway.post("/v2/space/token", headers=bearer(owner))
    assert issued.status_code == 201, issued.text
    revoked = issued.json()["token"]
    answer = await gateway.delete(f"/v2/space/token/{issued.json()['id']}",
                                  headers=bearer(owner))
    assert answer.status_code == 200, answer.text

    alphabet = string.ascii_letters + string.digits + "-_"
    forged = ["cht_" + "".join(random.choices(alphabet, k=len(owner) - 4))
              for _ in range(470)]
    odd = ["cht_guess", owner[:-1], owner + "x", owner.upper(), "x" * 300,
           "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", owner[::-1], "cht_", "0", owner[:40]]
    bad = forged + odd + [revoked] * 20
    assert len(bad) == 500
    before = await token_lookups(gateway)
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30,
                                 limits=limits) as flood:
        gate = asyncio.Semaphore(20)

        async def guess(token: str) -> httpx.Response:
            async with gate:
                return await flood.get("/v2/contact/id:1", headers=bearer(token))

        answers = await asyncio.gather(*(guess(t) for t in bad))
    for answer in answers:
        assert error_of(answer, 401) == "the API token is not valid"
        assert answer.headers["WWW-Authenticate"] == (
            'Bearer realm="contacthub", error="invalid_token"')
    assert await token_lookups(gateway) - before == 1, "one lookup: the revoked token, once"

    valid = await gateway.post("/v2/contact/list", headers=bearer(workspace["tokens"]["agent"]),
                               json={})
    assert valid.status_code == 200, valid.text
    assert await token_lookups(gateway) - before == 2, "the valid token was looked up once"


async def test_a_body_larger_than_the_limit_is_413_and_stores_nothing(
    gateway: httpx.AsyncClient, workspace: dict[str, Any],
) -> None:
    token = workspace["tokens"]["owner"]
    huge = {"firstName": "x" * 1_100_000}
    answer = await gateway.post("/v2/contact/email:big@example.com", headers=bearer(token),
                                json=huge)
    assert "bytes" in error_of(answer, 413)
    lookup = await gateway.get("/v2/contact/email:big@example.com", headers=bearer(token))
    error_of(lookup, 404)
