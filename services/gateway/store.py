"""The gateway's own data (MongoDB): workspaces, users (integer ids per workspace, as
respond.io numbers them), hashed API tokens and the key tokens are signed with."""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.gateway.rate_limit import WindowTotals
from services.gateway.tokens import (
    hash_token,
    new_key,
    new_token,
    new_token_id,
    token_matches,
)
from shared.api.roles import Role
from shared.contracts.envelope import utcnow
from shared.internal import Caller
from shared.mongo import Document
from shared.retention import Expiry, ensure_expiry_indexes

#: Database lookups of a presented token (the only auth step that reads the database).
TOKEN_LOOKUPS = Counter(
    "contacthub_gateway_token_lookups_total",
    "Database lookups of presented API tokens, by outcome (found, unknown)",
    ["outcome"],
)
_KEY_ID = "api-tokens"
#: The users every new workspace gets: (role, first name, last name); emails are
#: ``<role>@<workspace slug>.example``.
FIRST_USERS: tuple[tuple[Role, str, str], ...] = (
    ("owner", "Olivia", "Owner"), ("manager", "Max", "Manager"), ("agent", "Ada", "Agent"))
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class WorkspaceStore:
    """Workspaces, their users and the users' tokens."""

    def __init__(self, db: AsyncDatabase[Document]):
        self._db = db
        self._key: bytes | None = None

    async def ensure_indexes(self) -> None:
        """Indexes every lookup of the gateway uses."""
        await self._db.users.create_index([("workspace_id", ASCENDING), ("id", ASCENDING)])
        await self._db.users.create_index([("workspace_id", ASCENDING), ("email", ASCENDING)])
        await self._db.tokens.create_index([("user_id", ASCENDING)])
        await self._db.tokens.create_index([("workspace_id", ASCENDING),
                                            ("token_id", ASCENDING)])

    async def token_key(self) -> bytes:
        """The key every API token is signed with: made once, on first use, kept in the
        gateway's database (``token_keys``), read once per process."""
        if self._key is None:
            doc = await self._db.token_keys.find_one({"_id": _KEY_ID})
            if doc is None:
                fresh = base64.b64encode(new_key()).decode()
                with contextlib.suppress(DuplicateKeyError):  # another process made it first
                    await self._db.token_keys.insert_one(
                        {"_id": _KEY_ID, "key": fresh, "created_at": utcnow()})
                doc = await self._db.token_keys.find_one({"_id": _KEY_ID})
            assert doc is not None
            self._key = base64.b64decode(doc["key"])
        return self._key

    async def _insert_token(self, *, workspace_id: str, user_id: int, role: Role
                            ) -> dict[str, Any]:
        """A new token of one user, stored as its hash; the token itself only in the answer."""
        token = new_token(await self.token_key())
        doc = {"_id": hash_token(token), "token_id": new_token_id(), "user_id": user_id,
               "workspace_id": workspace_id, "role": role, "created_at": utcnow()}
        await self._db.tokens.insert_one(doc)
        return {**public_token(doc), "token": token}

    async def create_workspace(
        self, *, name: str, default_region: str | None = None
    ) -> dict[str, Any]:
        """A workspace with one owner, one manager and one agent, each with a token."""
        workspace_id = "ws_" + secrets.token_hex(6)
        now = utcnow()
        await self._db.workspaces.insert_one(
            {"_id": workspace_id, "name": name, "default_region": default_region,
             "created_at": now}
        )
        tokens: dict[str, str] = {}
        users: dict[str, dict[str, Any]] = {}
        domain = (_NOT_SLUG.sub("-", name.lower()).strip("-") or "workspace") + ".example"
        for user_id, (role, first, last) in enumerate(FIRST_USERS, start=1):
            doc = {"_id": f"{workspace_id}/{user_id}", "workspace_id": workspace_id,
                   "id": user_id, "first_name": first, "last_name": last,
                   "email": f"{role}@{domain}", "role": role, "created_at": now}
            await self._db.users.insert_one(doc)
            issued = await self._insert_token(workspace_id=workspace_id, user_id=user_id,
                                              role=role)
            tokens[role] = issued["token"]
            users[role] = public_user(doc)
        return {"workspace_id": workspace_id, "tokens": tokens, "users": users}

    async def workspace_exists(self, workspace_id: str) -> bool:
        """Whether the workspace is known."""
        return await self._db.workspaces.count_documents({"_id": workspace_id}, limit=1) > 0

    async def caller_for_token(self, token: str) -> Caller | None:
        """The user a token belongs to, or None for an unknown token (counted in
        ``TOKEN_LOOKUPS``; the gateway checks ``tokens.signed`` first, so only tokens this
        gateway made get here)."""
        digest = hash_token(token)
        doc = await self._db.tokens.find_one({"_id": digest})
        TOKEN_LOOKUPS.labels("unknown" if doc is None else "found").inc()
        if doc is None or not token_matches(token, doc["_id"]):
            return None
        workspace = await self._db.workspaces.find_one(
            {"_id": doc["workspace_id"]}, {"default_region": 1}
        )
        if workspace is None:
            return None
        role: Role = doc["role"]
        return Caller(workspace_id=doc["workspace_id"], user_id=str(doc["user_id"]), role=role,
                      default_region=workspace.get("default_region"))

    async def users_of(self, workspace_id: str, *, after: int = 0, before: int | None = None,
                       limit: int | None = None) -> list[dict[str, Any]]:
        """Users of the workspace with ids in (``after``, ``before``), by id (the first
        ``limit`` after ``after``, or the last ``limit`` before ``before``), as
        ``public_user`` shows them."""
        query: dict[str, Any] = {"workspace_id": workspace_id, "id": {"$gt": after}}
        if before is not None:
            query["id"]["$lt"] = before
        found = self._db.users.find(query).sort("id", -1 if before is not None else 1)
        if limit is not None:
            found = found.limit(limit)
        users = [public_user(doc) async for doc in found]
        return sorted(users, key=lambda u: int(u["id"]))

    async def user(self, workspace_id: str, ref: int | str) -> dict[str, Any] | None:
        """The user of the workspace with this integer id or email (any case), as
        ``public_user`` shows it; None when there is none."""
        query: dict[str, Any] = {"workspace_id": workspace_id}
        if isinstance(ref, int):
            query["id"] = ref
        else:
            query["email"] = ref.strip().lower()
        doc = await self._db.users.find_one(query)
        return None if doc is None else public_user(doc)

    async def tokens_of(self, workspace_id: str) -> list[dict[str, Any]]:
        """The workspace's tokens, oldest first, as ``public_token`` shows them."""
        docs = self._db.tokens.find({"workspace_id": workspace_id}).sort("created_at", 1)
        return [public_token(doc) async for doc in docs]

    async def issue_token(self, *, workspace_id: str, user_id: int) -> dict[str, Any] | None:
        """A new token for a user of the workspace (older ones keep working); None when the
        user is not one of the workspace."""
        user = await self._db.users.find_one({"id": user_id, "workspace_id": workspace_id})
        if user is None:
            return None
        return await self._insert_token(workspace_id=workspace_id, user_id=user_id,
                                        role=user["role"])

    async def rotate_token(self, *, workspace_id: str, user_id: int
                           ) -> tuple[dict[str, Any], dict[str, str]] | None:
        """A new token for a user of the workspace, every older token of that user revoked:
        the new token (shown once) and ``{hash: token id}`` of those revoked; None for an
        unknown user."""
        # The tokens to revoke are read before the new one exists: two rotations at once then
        # each revoke only what was there before them, never the other's new token.
        mine = {"workspace_id": workspace_id, "user_id": user_id}
        revoked = {str(doc["_id"]): str(doc.get("token_id"))
                   async for doc in self._db.tokens.find(mine, {"_id": 1, "token_id": 1})}
        issued = await self.issue_token(workspace_id=workspace_id, user_id=user_id)
        if issued is None:
            return None
        if revoked:
            await self._db.tokens.delete_many({"_id": {"$in": list(revoked)}})
        return issued, revoked

    async def revoke_token(self, *, workspace_id: str, token_id: str) -> str | None:
        """Delete one token of the workspace; its hash, or None if there is no such token."""
        doc = await self._db.tokens.find_one_and_delete(
            {"workspace_id": workspace_id, "token_id": token_id}, projection={"_id": 1})
        return None if doc is None else str(doc["_id"])



def public_user(doc: Document) -> dict[str, Any]:
    """A stored user as respond.io shows one (``team``, ``restrictions``: none here)."""
    return {"id": doc["id"], "firstName": doc.get("first_name"),
            "lastName": doc.get("last_name"), "email": doc.get("email"), "role": doc["role"],
            "team": None, "restrictions": []}


def public_token(doc: Document) -> dict[str, Any]:
    """What may be shown of a stored token: never the token, never its hash."""
    created = doc.get("created_at")
    return {"id": doc.get("token_id"), "userId": doc["user_id"], "role": doc["role"],
            "createdAt": int(created.timestamp()) if created is not None else None}


class RateWindows:
    """The replicas' shared rate-limit counts: one document per token and window
    (``{_id: "<token hash>:<window>", n: total, r: {<replica>: count}, b: {<replica>: claim},
    expires_at}``), deleted by the gateway's retention sweep once the window is past."""

    EXPIRY = Expiry("rate_windows", "expires_at")

    def __init__(self, db: AsyncDatabase[Document]):
        self._windows = db[self.EXPIRY.collection]

    async def ensure_indexes(self) -> None:
        """The index the retention sweep deletes past windows by."""
        await ensure_expiry_indexes(self._windows.database, [self.EXPIRY])

    async def add(
        self, counts: Mapping[str, tuple[int, int]], *, replica: str, expires_at: float
    ) -> dict[str, WindowTotals]:
        """Add each ``(count, claim)`` to its window (one bulk write: ``$inc`` of the total and
        of this replica's count, ``$set`` of its claim), then read every window back (one
        find)."""
        expires = datetime.fromtimestamp(expires_at, tz=UTC)
        ops = [UpdateOne({"_id": doc},
                         {"$inc": {"n": n, f"r.{replica}": n}, "$set": {f"b.{replica}": claim},
                          "$setOnInsert": {"expires_at": expires}}, upsert=True)
               for doc, (n, claim) in counts.items()]
        try:
            await self._windows.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:  # two first increments raced to insert: add again
            again = [ops[e["index"]] for e in exc.details.get("writeErrors", ())
                     if e.get("code") == 11000]
            if not again:
                raise
            await self._windows.bulk_write(again, ordered=False)
        found = self._windows.find({"_id": {"$in": list(counts)}})
        return {doc["_id"]: WindowTotals(total=int(doc["n"]), counted=doc.get("r") or {},
                                         claims=doc.get("b") or {})
                async for doc in found}
