"""The owner-only token routes (``routes/tokens.py``) against a fake store: who may call
them, what they answer, what a revocation does to this process's cache, and that odd input
is a 4xx, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.auth import Gateway, install_rate_limit_headers
from services.gateway.rate_limit import FixedWindowLimiter
from services.gateway.routes import tokens
from services.gateway.tokens import hash_token, new_key, new_token
from shared.errors import install_error_handlers
from shared.internal import Caller

KEY = new_key()


class FakeStore:
    """Tokens of two workspaces, in memory."""

    def __init__(self) -> None:
        self.by_hash: dict[str, dict[str, Any]] = {}
        self.lookups = 0

    def add(self, workspace_id: str, user_id: int, role: str) -> dict[str, Any]:
        token = new_token(KEY)
        doc = {"id": f"tok_{len(self.by_hash)}", "userId": user_id, "role": role,
               "createdAt": 1, "workspace_id": workspace_id, "token": token}
        self.by_hash[hash_token(token)] = doc
        return doc

    async def caller_for_token(self, token: str) -> Caller | None:
        self.lookups += 1
        doc = self.by_hash.get(hash_token(token))
        if doc is None:
            return None
        return Caller(workspace_id=doc["workspace_id"], user_id=str(doc["userId"]),
                      role=doc["role"])

    def _public(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {k: doc[k] for k in ("id", "userId", "role", "createdAt")}

    async def tokens_of(self, workspace_id: str) -> list[dict[str, Any]]:
        return [self._public(d) for d in self.by_hash.values()
                if d["workspace_id"] == workspace_id]

    async def issue_token(self, *, workspace_id: str, user_id: int) -> dict[str, Any] | None:
        roles = {d["userId"]: d["role"] for d in self.by_hash.values()
                 if d["workspace_id"] == workspace_id}
        if user_id not in roles:
            return None
        doc = self.add(workspace_id, user_id, roles[user_id])
        return {**self._public(doc), "token": doc["token"]}

    async def rotate_token(self, *, workspace_id: str, user_id: int
                           ) -> tuple[dict[str, Any], dict[str, str]] | None:
        issued = await self.issue_token(workspace_id=workspace_id, user_id=user_id)
        if issued is None:
            return None
        old = {h: d["id"] for h, d in self.by_hash.items() if d["userId"] == user_id
               and d["workspace_id"] == workspace_id and d["id"] != issued["id"]}
        for digest in old:
            del self.by_hash[digest]
        return issued, old

    async def revoke_token(self, *, workspace_id: str, token_id: str) -> str | None:
        for digest, doc in list(self.by_hash.items()):
            if doc["id"] == token_id and doc["workspace_id"] == workspace_id:
                del self.by_hash[digest]
                return digest
        return None


@pytest.fixture
async def setup() -> AsyncIterator[tuple[httpx.AsyncClient, FakeStore, dict[str, str]]]:
    store = FakeStore()
    tokens_by_role = {role: store.add("ws_a", user_id, role)["token"]
                      for user_id, role in enumerate(("owner", "manager", "agent"), start=1)}
    tokens_by_role["other"] = store.add("ws_b", 1, "owner")["token"]
    app = FastAPI()
    install_error_handlers(app)
    install_rate_limit_headers(app)
    app.include_router(tokens.router)
    fake: Any = store
    app.state.gateway = Gateway(store=fake, services=None,  # type: ignore[arg-type]
                                limiter=FixedWindowLimiter(1000, 1.0), token_key=KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gateway.test") as client:
        yield client, store, tokens_by_role


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_only_owners_manage_tokens(
    setup: tuple[httpx.AsyncClient, FakeStore, dict[str, str]],
) -> None:
    client, _, by_role = setup
    calls = [("GET", "/v2/space/token"), ("POST", "/v2/space/token"),
             ("POST", "/v2/space/token/rotate"), ("DELETE", "/v2/space/token/tok_0")]
    for method, path in calls:
        for role in ("manager", "agent"):
            answer = await client.request(method, path, headers=bearer(by_role[role]))
            assert answer.status_code == 403, (method, path, role, answer.text)
            assert "owner" in answer.json()["message"]
        answer = await client.request(method, path)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="contacthub"'


async def test_an_owner_lists_issues_rotates_and_revokes(
    setup: tuple[httpx.AsyncClient, FakeStore, dict[str, str]],
) -> None:
    client, store, by_role = setup
    owner = bearer(by_role["owner"])
    listed = (await client.get("/v2/space/token", headers=owner)).json()
    assert {t["role"] for t in listed} == {"owner", "manager", "agent"}, "own workspace only"
    assert all("token" not in t for t in listed)

    issued = await client.post("/v2/space/token", headers=owner, json={"userId": 3})
    assert issued.status_code == 201 and issued.json()["role"] == "agent"

    # The agent's token is cached here; rotating it refuses it at once in this process.
    assert (await client.get("/v2/space/token", headers=bearer(by_role["agent"]))
            ).status_code == 403
    rotated = await client.post("/v2/space/token/rotate", headers=owner,
                                json={"userId": 3})
    assert rotated.status_code == 201, rotated.text
    assert len(rotated.json()["revoked"]) == 2  # the first token and the one issued above
    refused = await client.get("/v2/space/token", headers=bearer(by_role["agent"]))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].endswith('error="invalid_token"')

    other_ws = next(d["id"] for d in store.by_hash.values() if d["workspace_id"] == "ws_b")
    assert (await client.delete(f"/v2/space/token/{other_ws}", headers=owner)
            ).status_code == 404, "another workspace's token is not found"
    mine = rotated.json()["id"]
    answer = await client.delete(f"/v2/space/token/{mine}", headers=owner)
    assert answer.json() == {"id": mine, "status": "revoked"}
    assert (await client.delete(f"/v2/space/token/{mine}", headers=owner)).status_code == 404


@pytest.mark.parametrize("body", [
    b'{"userId": 5}', b'{"userId": "\\ud800"}', b'{"userId": "3"}', b'{"userId": 0}',
    b'{"userId": 9223372036854775808}', b'{"userId": true}', b'{"userId": 1.5}',
    b'{"userId": 1, "extra": 1}', b"[]", b'"x"', b"{not json",
])
async def test_odd_bodies_are_4xx(
    setup: tuple[httpx.AsyncClient, FakeStore, dict[str, str]], body: bytes,
) -> None:
    client, _, by_role = setup
    headers = {**bearer(by_role["owner"]), "Content-Type": "application/json"}
    for path in ("/v2/space/token", "/v2/space/token/rotate"):
        answer = await client.post(path, headers=headers, content=body)
        assert answer.status_code == 422, (path, body, answer.text)
        assert set(answer.json()) == {"code", "message"}
    for token_id in ("%ED%A0%80", "x" * 65, "a%00b"):
        answer = await client.delete(f"/v2/space/token/{token_id}",
                                     headers=bearer(by_role["owner"]))
        assert answer.status_code == 422, (token_id, answer.text)
