"""The gateway's own data (MongoDB): workspaces, users and hashed API tokens."""

from __future__ import annotations

import secrets
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.gateway.tokens import hash_token, new_token, token_matches
from shared.api.roles import ROLES, Role
from shared.contracts.envelope import utcnow
from shared.internal import Caller
from shared.mongo import Document


class WorkspaceStore:
    """Workspaces, their users and the users' tokens."""

    def __init__(self, db: AsyncDatabase[Document]):
        self._db = db

    async def ensure_indexes(self) -> None:
        """Indexes every lookup of the gateway uses."""
        await self._db.users.create_index([("workspace_id", ASCENDING), ("_id", ASCENDING)])
        await self._db.tokens.create_index([("user_id", ASCENDING)])

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
        users: dict[str, str] = {}
        for role in ROLES:
            user_id = "usr_" + secrets.token_hex(6)
            await self._db.users.insert_one(
                {"_id": user_id, "workspace_id": workspace_id, "role": role,
                 "name": f"{name} {role}", "created_at": now}
            )
            token = new_token()
            await self._db.tokens.insert_one(
                {"_id": hash_token(token), "user_id": user_id, "workspace_id": workspace_id,
                 "role": role, "created_at": now}
            )
            tokens[role] = token
            users[role] = user_id
        return {"workspace_id": workspace_id, "tokens": tokens, "users": users}

    async def workspace_exists(self, workspace_id: str) -> bool:
        """Whether the workspace is known."""
        return await self._db.workspaces.count_documents({"_id": workspace_id}, limit=1) > 0

    async def caller_for_token(self, token: str) -> Caller | None:
        """The user a token belongs to, or None for an unknown token."""
        digest = hash_token(token)
        doc = await self._db.tokens.find_one({"_id": digest})
        if doc is None or not token_matches(token, doc["_id"]):
            return None
        workspace = await self._db.workspaces.find_one(
            {"_id": doc["workspace_id"]}, {"default_region": 1}
        )
        if workspace is None:
            return None
        role: Role = doc["role"]
        return Caller(workspace_id=doc["workspace_id"], user_id=doc["user_id"], role=role,
                      default_region=workspace.get("default_region"))

    async def user_in_workspace(self, workspace_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is a user of the workspace (assignee check)."""
        return await self._db.users.count_documents(
            {"_id": user_id, "workspace_id": workspace_id}, limit=1
        ) > 0
