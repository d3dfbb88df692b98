"""Helpers of the contacts end-to-end tests: public API clients, the event tap, read-backs.

Every test talks to the real gateway (``system`` fixture: Kafka-protocol broker, MongoDB-
protocol server, every service as a subprocess) with the tokens of a fresh workspace.

- ``ws`` / ``other_ws``: a ``Workspace`` with one ``httpx.AsyncClient`` per role. Each client
  keeps itself under the gateway's rate limit (100 requests/s per token) by spacing its own
  requests (at most ``REQUESTS_PER_S`` in any second), so bursts never see a 429.
- ``tap``: an ``EventTap`` on the contacts topic opened before the test acts, so it sees
  exactly what the test caused (filter by ``ws.id``).
- ``Workspace.user_ids()``: the integer user ids of the workspace by role, read from the
  gateway's own database; the assignee check needs real user ids.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from shared.settings import Topics
from tests.fixtures.stack import JointFixture
from tests.support.events import EventTap

#: Requests per second one client allows itself (the gateway allows 100 per token).
REQUESTS_PER_S = 60
CONTACTS_TOPIC = Topics().contacts_events
GATEWAY_DB = "contacthub_gateway"


class _Pace:
    """A sliding one-second window: at most ``limit`` requests started in any second."""

    def __init__(self, limit: int = REQUESTS_PER_S):
        self._limit = limit
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def __call__(self, request: httpx.Request) -> None:
        async with self._lock:
            for _ in range(1000):  # bounded: each turn waits for the oldest request to age out
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= 1.0:
                    self._sent.popleft()
                if len(self._sent) < self._limit:
                    break
                await asyncio.sleep(1.0 - (now - self._sent[0]) + 0.01)
            self._sent.append(time.monotonic())


def client_for(system: JointFixture, token: str) -> httpx.AsyncClient:
    """A paced client of the public API, authenticated with ``token``."""
    return httpx.AsyncClient(
        base_url=system.gateway_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
        event_hooks={"request": [_Pace()]},
    )


@dataclass
class Workspace:
    """A fresh workspace and a public-API client per role."""

    system: JointFixture
    id: str
    tokens: dict[str, str]
    owner: httpx.AsyncClient = field(init=False)
    manager: httpx.AsyncClient = field(init=False)
    agent: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.owner = client_for(self.system, self.tokens["owner"])
        self.manager = client_for(self.system, self.tokens["manager"])
        self.agent = client_for(self.system, self.tokens["agent"])

    async def close(self) -> None:
        for client in (self.owner, self.manager, self.agent):
            await client.aclose()

    # contacts ------------------------------------------------------------------------------
    async def create(
        self, identifier: str, body: dict[str, Any] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> int:
        """Create a contact; assert 200 with ``{"contactId": N}``; return N."""
        answer = await (client or self.owner).post(f"/v2/contact/{identifier}", json=body or {})
        assert answer.status_code == 200, answer.text
        contact_id = answer.json()["contactId"]
        assert isinstance(contact_id, int)
        return contact_id

    async def get(self, identifier: str | int) -> dict[str, Any]:
        """The contact (an int is an id); assert 200."""
        answer = await self.owner.get(f"/v2/contact/{ident(identifier)}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def update(self, identifier: str | int, body: Any) -> int:
        """Partial update; assert 200; return the contact id."""
        answer = await self.owner.put(f"/v2/contact/{ident(identifier)}", json=body)
        assert answer.status_code == 200, answer.text
        contact_id: int = answer.json()["contactId"]
        return contact_id

    async def list(
        self, body: dict[str, Any] | None = None, *, limit: int | None = None,
        cursor: int | None = None,
    ) -> dict[str, Any]:
        """One page of ``POST /v2/contact/list``; assert 200."""
        params: dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if cursor is not None:
            params["cursorId"] = cursor
        answer = await self.owner.post("/v2/contact/list", json=body or {}, params=params)
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page

    async def list_ids(self, body: dict[str, Any] | None = None) -> list[int]:
        """Ids of every contact a list request matches (one page of 100), in list order."""
        page = await self.list(body, limit=100)
        assert page["pagination"]["next"] is None, "more than one page: narrow the test"
        return [item["id"] for item in page["items"]]

    async def add_tags(self, identifier: str | int, names: list[str]) -> None:
        answer = await self.owner.post(f"/v2/contact/{ident(identifier)}/tag", json=names)
        assert answer.status_code == 200, answer.text

    async def user_ids(self) -> dict[str, int]:
        """role → user id of this workspace, from the gateway's database."""
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.system.mongo_url)
        try:
            users = await client[GATEWAY_DB]["users"].find({"workspace_id": self.id}).to_list()
        finally:
            await client.close()
        return {user["role"]: int(user["id"]) for user in users}


def ident(identifier: str | int) -> str:
    """``42`` → ``id:42``; strings are identifiers already."""
    return f"id:{identifier}" if isinstance(identifier, int) else identifier


def assert_error(answer: httpx.Response, status: int, *mentions: str) -> dict[str, Any]:
    """The answer is the API's JSON error with ``status`` and a message naming ``mentions``."""
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    body: dict[str, Any] = answer.json()
    assert body.get("code") == status, body
    message = body.get("message")
    assert isinstance(message, str), body
    for mention in mentions:
        assert mention in message, f"{mention!r} not in {message!r}"
    return body


def of_contact(envelopes: Iterable[Any], contact_id: int) -> list[Any]:
    """The envelopes about one contact, in the order they arrived."""
    return [e for e in envelopes if e.data.contact_id == contact_id]


def types(envelopes: Iterable[Any]) -> list[str]:
    """The ``type`` of each envelope."""
    return [e.type for e in envelopes]


@pytest.fixture
async def ws(workspace: dict[str, Any], system: JointFixture) -> AsyncIterator[Workspace]:
    """The test's own workspace, with a client per role."""
    system.require("contacts", "gateway")
    space = Workspace(system=system, id=workspace["workspace_id"], tokens=workspace["tokens"])
    try:
        yield space
    finally:
        await space.close()


@pytest.fixture
async def other_ws(system: JointFixture) -> AsyncIterator[Workspace]:
    """A second workspace, for the isolation tests."""
    created = system.create_workspace()
    space = Workspace(system=system, id=created["workspace_id"], tokens=created["tokens"])
    try:
        yield space
    finally:
        await space.close()


@pytest.fixture
async def tap(system: JointFixture) -> AsyncIterator[EventTap]:
    """Everything published on the contacts topic from now on."""
    system.require("contacts", "gateway")
    async with EventTap(system.kafka_bootstrap, CONTACTS_TOPIC) as opened:
        yield opened
