"""The MongoDB repository of the workspace channels.

Channel document: ``{_id: "<workspace>:<id>", workspace_id, id, name, source, created_at,
fields: {connect fields}, webhook_key, deleted_at}``; ids from one counter document per
workspace (``channel_counters``). Every query names the workspace, except the webhook lookup,
whose key (unique index) is what identifies the workspace's channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.channels.domain.channel import Channel, public_fields
from shared.mongo import Document, increment

Session = Any
LIVE = {"deleted_at": None}


class ChannelStore:
    """The workspace channels in the service's own database."""

    def __init__(self, db: AsyncDatabase[Document]):
        self._channels = db["channels"]
        self._counters = db["channel_counters"]

    async def ensure_indexes(self) -> None:
        """Pages walk a workspace's ids; a webhook finds its channel by key (unique)."""
        await self._channels.create_index([("workspace_id", ASCENDING), ("id", ASCENDING)],
                                          unique=True)
        await self._channels.create_index([("webhook_key", ASCENDING)], unique=True)

    async def next_id(self, workspace_id: str) -> int:
        """Allocate the workspace's next channel id (an atomic `$inc`, outside transactions)."""
        return await increment(self._counters, workspace_id, "last_id")

    async def insert(self, channel: Channel, session: Session) -> None:
        """Store a new channel."""
        await self._channels.insert_one(to_document(channel), session=session)

    async def get(self, workspace_id: str, channel_id: int, session: Session = None
                  ) -> Channel | None:
        """A channel of the workspace that is not deleted, or None."""
        doc = await self._channels.find_one(
            {"_id": f"{workspace_id}:{channel_id}", **LIVE}, session=session)
        return None if doc is None else from_document(doc)

    async def page(self, workspace_id: str, *, limit: int, after: int | None,
                   before: int | None) -> tuple[list[Channel], bool, bool]:
        """Up to `limit` channels by id ascending, above `after` or below `before`; and
        whether more channels come after and before the page."""
        scope = {"workspace_id": workspace_id, **LIVE}
        if before is not None:
            docs = await self._channels.find({**scope, "id": {"$lt": before}}).sort(
                "id", DESCENDING).limit(limit + 1).to_list()
            has_previous = len(docs) > limit
            docs = list(reversed(docs[:limit]))
            has_next = bool(docs) and await self._any(scope, {"$gt": docs[-1]["id"]})
        else:
            ids = {"id": {"$gt": after}} if after is not None else {}
            docs = await self._channels.find({**scope, **ids}).sort(
                "id", ASCENDING).limit(limit + 1).to_list()
            has_next = len(docs) > limit
            docs = docs[:limit]
            has_previous = bool(docs) and await self._any(scope, {"$lt": docs[0]["id"]})
        return [from_document(d) for d in docs], has_next, has_previous

    async def _any(self, scope: Document, ids: Document) -> bool:
        return await self._channels.find_one({**scope, "id": ids}, {"_id": 1}) is not None

    async def mark_deleted(self, workspace_id: str, channel_id: int, *, at: datetime,
                           session: Session) -> bool:
        """Delete a channel: its secrets go (only its provider ids stay), its row stays for
        the history that names it; False if the workspace has no such live channel."""
        doc = await self._channels.find_one(
            {"_id": f"{workspace_id}:{channel_id}", **LIVE}, session=session)
        if doc is None:
            return False
        kept = from_document(doc)
        await self._channels.update_one(
            {"_id": doc["_id"]}, {"$set": {"deleted_at": at, "fields": public_fields(kept)}},
            session=session)
        return True

    async def by_webhook_key(self, key: str) -> Channel | None:
        """The channel whose webhook key this is, unless deleted."""
        doc = await self._channels.find_one({"webhook_key": key, **LIVE})
        return None if doc is None else from_document(doc)


def to_document(channel: Channel) -> Document:
    """A channel as stored."""
    return {"_id": f"{channel.workspace_id}:{channel.id}", **channel.model_dump()}


def from_document(doc: Document) -> Channel:
    """A stored channel."""
    return Channel.model_validate({k: v for k, v in doc.items() if k != "_id"})
