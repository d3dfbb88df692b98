"""Users as the gateway's routes see them: a per-process directory of each workspace's users
(read once per cache period), the assignee a body names resolved to a user id before it is
forwarded, and contact answers enriched with the assignee's ``{id, firstName, lastName,
email}``.

The contacts service stores and publishes the assignee as the user's integer id; only the
gateway, which owns users, knows who that is. A user that is gone shows as ``null``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import Response

from services.gateway.http11 import Answer
from services.gateway.upstream import answer_of
from shared.api.users import USER_ID_MAX
from shared.errors import ApiError
from shared.internal import Caller
from shared.topology import CONTACTS

#: How long a workspace's users are kept (a renamed user shows its new name within this).
USERS_CACHE_S = 10.0
#: A lookup that finds no user reads the workspace again at most this often.
MISS_REFRESH_S = 1.0
_CACHE_MAX = 10_000
_ASSIGNED = b'"assignee":'
_UNASSIGNED = b'"assignee":null'
_ASSIGNEE_FIELDS = ("id", "firstName", "lastName", "email")


class UserSource(Protocol):
    """Where the directory reads users (``WorkspaceStore``)."""

    async def users_of(self, workspace_id: str, *, after: int = 0, before: int | None = None,
                       limit: int | None = None) -> list[dict[str, Any]]:
        """Users of a workspace, by id, as ``public_user`` shows them."""


@dataclass
class _Users:
    read_at: float
    by_id: dict[int, dict[str, Any]]
    by_email: dict[str, int]


@dataclass
class UserDirectory:
    """Each workspace's users, read from the store at most once per ``ttl_s`` (and once per
    ``MISS_REFRESH_S`` when a lookup finds nobody)."""

    source: UserSource
    clock: Callable[[], float]
    ttl_s: float = USERS_CACHE_S
    _workspaces: dict[str, _Users] = field(default_factory=dict)

    async def _read(self, workspace_id: str) -> _Users:
        users = await self.source.users_of(workspace_id)
        if len(self._workspaces) >= _CACHE_MAX:
            self._workspaces.clear()
        entry = _Users(read_at=self.clock(),
                       by_id={int(u["id"]): u for u in users},
                       by_email={str(u["email"]).lower(): int(u["id"])
                                 for u in users if u.get("email")})
        self._workspaces[workspace_id] = entry
        return entry

    async def _users(self, workspace_id: str) -> _Users:
        entry = self._workspaces.get(workspace_id)
        if entry is None or self.clock() - entry.read_at >= self.ttl_s:
            entry = await self._read(workspace_id)
        return entry

    async def find(self, workspace_id: str, ref: int | str) -> dict[str, Any] | None:
        """The user with this id or email (any case), or None."""
        for attempt in range(2):
            entry = await self._users(workspace_id)
            user_id = ref if isinstance(ref, int) else entry.by_email.get(ref.strip().lower())
            if user_id is not None and user_id in entry.by_id:
                return entry.by_id[user_id]
            if attempt or self.clock() - entry.read_at < MISS_REFRESH_S:
                break
            del self._workspaces[workspace_id]
        return None

    async def assignees(self, workspace_id: str) -> dict[int, dict[str, Any]]:
        """user id → the assignee object a contact shows."""
        entry = await self._users(workspace_id)
        return {uid: {k: u.get(k) for k in _ASSIGNEE_FIELDS} for uid, u in entry.by_id.items()}


def assignee_ref(value: Any) -> int | str:
    """An assignee as a body names it: an integer user id (1..2^63-1) or an email; else 422."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= USER_ID_MAX:
            return value
        raise ApiError(422, f"assignee: {value!r} is not a user id (1 to {USER_ID_MAX})")
    if isinstance(value, str) and "@" in value and len(value) <= 254:
        return value
    raise ApiError(422, f"assignee: {value!r} is not a user id or a user's email")


async def resolve_assignee(directory: UserDirectory, caller: Caller, body: Any) -> Any:
    """The body with its ``assignee`` (user id or email) replaced by the user's integer id;
    None when there is nothing to change; 422 naming the value for anyone else."""
    if not isinstance(body, dict) or body.get("assignee") is None:
        return None
    raw = body["assignee"]
    user = await directory.find(caller.workspace_id, assignee_ref(raw))
    if user is None:
        raise ApiError(422, f"assignee: {raw!r} is not a user of this workspace")
    if user["id"] == raw:
        return None
    return {**body, "assignee": user["id"]}


async def with_assignees(directory: UserDirectory, caller: Caller, answer: Answer) -> Response:
    """A contacts answer (one contact, or a page of ``items``) with each stored assignee id
    replaced by ``{id, firstName, lastName, email}`` (null for a user that is gone). An answer
    with nobody assigned is passed on as it is, unparsed."""
    content = answer.content
    if answer.status_code != 200 or content.count(_ASSIGNED) == content.count(_UNASSIGNED):
        return answer_of(CONTACTS.name, answer)
    try:
        parsed = json.loads(content)
    except ValueError as exc:
        raise ApiError(502, "the contacts service answered unreadable JSON") from exc
    users = await directory.assignees(caller.workspace_id)
    contacts = parsed.get("items") if "items" in parsed else [parsed]
    for contact in contacts or ():
        stored = contact.get("assignee")
        if isinstance(stored, int):
            contact["assignee"] = users.get(stored)
    body = json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).encode()
    shown = answer_of(CONTACTS.name, answer)
    return Response(content=body, status_code=200, headers={
        k: v for k, v in shown.headers.items() if k != "content-length"})
