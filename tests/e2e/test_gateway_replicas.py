"""Two gateway replicas over one database: the rate limit holds across both, and a token
revoked or rotated through one (or through the admin CLI) stops working on both within the
token cache time (``GATEWAY_TOKEN_CACHE_S``, 10 s).

The second gateway is a process of its own (``python -m services.gateway``), started here
with the stack's own gateway settings on another port, and stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from deploy.local.cli import cmd_token
from deploy.local.stack import GATEWAY, SERVICES_BY_NAME, http_status, service_env
from tests.fixtures.stack import JointFixture

#: The stack's gateway settings (rate limit 100 per 1 s window, token cache 10 s).
LIMIT = 100
TOKEN_CACHE_S = 10.0
BURST = 80  # to each gateway: 160 together, beyond the limit of 100


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of ``token``."""
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    """A 127.0.0.1 port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def second_gateway(system: JointFixture) -> Iterator[str]:
    """A second gateway process with the stack's gateway settings on another port; its URL."""
    system.require("gateway", "contacts")
    port = free_port()
    settings = service_env(system.config, SERVICES_BY_NAME[GATEWAY])
    settings[f"{SERVICES_BY_NAME[GATEWAY].env_prefix}HTTP_PORT"] = str(port)
    env = {**os.environ, **settings, "PYTHONPATH": str(system.config.repo_root),
           "PYTHONUNBUFFERED": "1"}
    log_path = system.config.log_file("gateway-replica")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen([system.config.python, "-m", "services.gateway"],
                                cwd=system.config.repo_root, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while http_status(f"{url}/health", timeout_s=1.0) != 200:
            assert proc.poll() is None, f"the second gateway exited; see {log_path}"
            assert time.monotonic() < deadline, f"the second gateway is not up; see {log_path}"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
async def gateways(system: JointFixture, second_gateway: str
                   ) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Clients of the stack's gateway (A) and of the second one (B)."""
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30, limits=limits) as a, \
            httpx.AsyncClient(base_url=second_gateway, timeout=30, limits=limits) as b:
        yield a, b


async def counted(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """A call the gateway counts against the token and then answers itself (400: the body
    is not JSON), so what is measured is the limiter, not the contacts service."""
    return await client.put("/v2/contact/id:1", headers=bearer(token), content=b"{not json")


async def test_the_rate_limit_holds_across_two_gateways(
    gateways: tuple[httpx.AsyncClient, httpx.AsyncClient], workspace: dict[str, Any],
) -> None:
    a, b = gateways
    token = workspace["tokens"]["agent"]  # a fresh token: its windows are ours alone
    # Open the connections (401s cost nothing), then 2 s of light traffic on both (about 20
    # requests per second each, under the limit: nothing refused): each replica learns, at
    # its flushes, that the other serves this token too.
    await asyncio.gather(*(c.get("/v2/contact/id:1") for c in (a, b) for _ in range(BURST)))
    warm_from = time.time()
    warm: Counter[tuple[int, int]] = Counter()
    while time.time() < warm_from + 2.0:
        for answer in await asyncio.gather(counted(a, token), counted(b, token)):
            warm[int(time.time() - warm_from), answer.status_code] += 1
        await asyncio.sleep(0.05)
    assert {status for _, status in warm} == {400}, f"light traffic refused: {warm}"

    tries: list[tuple[Counter[int], Counter[str], float]] = []
    for _ in range(4):
        await asyncio.sleep(1.02 - time.time() % 1)  # just after a window starts
        started = time.time()
        a_answers, b_answers = await asyncio.gather(
            asyncio.gather(*(counted(a, token) for _ in range(BURST))),
            asyncio.gather(*(counted(b, token) for _ in range(BURST))),
        )
        ended = time.time()
        statuses = Counter(r.status_code for r in [*a_answers, *b_answers])
        by_gateway = Counter({"A": sum(r.status_code == 400 for r in a_answers),
                              "B": sum(r.status_code == 400 for r in b_answers)})
        tries.append((statuses, by_gateway, ended - started))
        assert set(statuses) <= {400, 429}, statuses
        for r in [*a_answers, *b_answers]:
            if r.status_code == 429:
                assert r.headers["Retry-After"] == "1"
                assert r.headers["X-RateLimit-Remaining"] == "0"
        if int(started) == int(ended):  # the whole burst fell into one window
            break
    print(f"\n  bursts of {BURST}+{BURST} (admitted, by gateway, seconds): "
          + "; ".join(f"{s[400]} {dict(g)} {t:.2f}s" for s, g, t in tries))
    statuses, by_gateway, took = tries[-1]
    assert took < 1.0, f"no burst fell into one 1 s window: {tries}"
    # One process counting alone would admit all 160 (80 < 100 on each).
    assert statuses[400] <= LIMIT, tries
    assert statuses[400] >= LIMIT // 2, tries
    assert by_gateway["A"] > 0 and by_gateway["B"] > 0, tries


async def until_refused(client: httpx.AsyncClient, token: str, *, within_s: float) -> float:
    """Seconds until ``client``'s gateway answers 401 to ``token`` (polled every 0.25 s)."""
    started = time.monotonic()
    while True:
        answer = await client.post("/v2/contact/list", headers=bearer(token), json={})
        if answer.status_code == 401:
            assert answer.headers["WWW-Authenticate"].endswith('error="invalid_token"')
            return time.monotonic() - started
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < within_s, f"{token[:8]}… still works"
        await asyncio.sleep(0.25)


async def works(client: httpx.AsyncClient, token: str) -> bool:
    """Whether ``client``'s gateway serves a list call with ``token``."""
    answer = await client.post("/v2/contact/list", headers=bearer(token), json={})
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


async def test_a_token_revoked_through_one_gateway_stops_working_on_both(
    gateways: tuple[httpx.AsyncClient, httpx.AsyncClient], workspace: dict[str, Any],
) -> None:
    a, b = gateways
    owner = workspace["tokens"]["owner"]
    issued = await a.post("/v2/space/token", headers=bearer(owner))
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert set(body) == {"id", "token", "userId", "role", "createdAt"} and body["role"] == "owner"
    extra = body["token"]
    assert await works(a, extra) and await works(b, extra)  # both have it cached now

    listed = await b.get("/v2/space/token", headers=bearer(owner))
    assert listed.status_code == 200, listed.text
    assert body["id"] in {t["id"] for t in listed.json()}
    assert extra not in listed.text and owner not in listed.text, "tokens are never shown again"

    revoked = await a.delete(f"/v2/space/token/{body['id']}", headers=bearer(owner))
    assert revoked.status_code == 200 and revoked.json() == {"id": body["id"],
                                                             "status": "revoked"}
    assert not await works(a, extra), "refused at once by the gateway that revoked it"
    took = await until_refused(b, extra, within_s=TOKEN_CACHE_S + 2)
    print(f"\n  revoked through A: refused by B after {took:.1f}s (cache {TOKEN_CACHE_S:g}s)")
    again = await a.delete(f"/v2/space/token/{body['id']}", headers=bearer(owner))
    assert again.status_code == 404

    # Only owners manage tokens; another workspace's token id is a 404.
    agent = workspace["tokens"]["agent"]
    for method, path in (("GET", "/v2/space/token"), ("POST", "/v2/space/token"),
                         ("POST", "/v2/space/token/rotate"),
                         ("DELETE", f"/v2/space/token/{body['id']}")):
        answer = await a.request(method, path, headers=bearer(agent))
        assert answer.status_code == 403, (method, path, answer.text)


async def test_rotating_a_token_gives_a_new_one_and_retires_the_old_everywhere(
    gateways: tuple[httpx.AsyncClient, httpx.AsyncClient], workspace: dict[str, Any],
) -> None:
    a, b = gateways
    owner = workspace["tokens"]["owner"]
    assert await works(a, owner) and await works(b, owner)
    rotated = await b.post("/v2/space/token/rotate", headers=bearer(owner))
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["token"]
    assert len(rotated.json()["revoked"]) == 1
    assert await works(a, new) and await works(b, new)
    assert not await works(b, owner), "refused at once by the gateway that rotated it"
    await until_refused(a, owner, within_s=TOKEN_CACHE_S + 2)

    # Rotating someone else's token: a user of the workspace, by id.
    users = {t["role"]: t["userId"] for t in (
        await a.get("/v2/space/token", headers=bearer(new))).json()}
    manager = workspace["tokens"]["manager"]
    assert await works(a, manager)
    answer = await a.post("/v2/space/token/rotate", headers=bearer(new),
                          json={"userId": users["manager"]})
    assert answer.status_code == 201 and answer.json()["role"] == "manager", answer.text
    assert not await works(a, manager) and await works(a, answer.json()["token"])
    unknown = await a.post("/v2/space/token/rotate", headers=bearer(new),
                           json={"userId": 999})
    assert unknown.status_code == 422 and "999" in unknown.json()["message"]


async def test_the_admin_cli_rotates_and_revokes_tokens(
    system: JointFixture, gateways: tuple[httpx.AsyncClient, httpx.AsyncClient],
    workspace: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = gateways
    agent = workspace["tokens"]["agent"]
    assert await works(a, agent) and await works(b, agent)

    def cli(action: str, **args: str) -> Any:
        capsys.readouterr()
        assert cmd_token(system.config, argparse.Namespace(action=action, **args)) == 0
        return json.loads(capsys.readouterr().out)

    tokens = await asyncio.to_thread(cli, "list", workspace=workspace["workspace_id"])
    assert {t["role"] for t in tokens} == {"owner", "manager", "agent"}
    user = next(t["userId"] for t in tokens if t["role"] == "agent")
    rotated = await asyncio.to_thread(cli, "rotate", workspace=workspace["workspace_id"],
                                      user=str(user))
    assert rotated["userId"] == user and rotated["revoked"]
    by_email = await asyncio.to_thread(cli, "issue", workspace=workspace["workspace_id"],
                                       user=workspace["users"]["agent"]["email"].upper())
    assert by_email["userId"] == user and by_email["role"] == "agent"
    assert await works(a, rotated["token"]) and await works(b, rotated["token"])
    # Neither gateway was told: the old token stops within the cache time on both.
    for client in (a, b):
        await until_refused(client, agent, within_s=TOKEN_CACHE_S + 2)

    revoked = await asyncio.to_thread(cli, "revoke", workspace=workspace["workspace_id"],
                                      token_id=rotated["id"])
    assert revoked == {"id": rotated["id"], "status": "revoked"}
    for client in (a, b):
        await until_refused(client, rotated["token"], within_s=TOKEN_CACHE_S + 2)
