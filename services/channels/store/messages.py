"""The MongoDB repository of sender links and messages.

Link document: ``{_id: "<workspace>:<channel>:<sender>", workspace_id, channel_id, sender_id,
source, contact_id, contact_version, first_message_at, last_message_at}``.
Message document: ``{_id: "<workspace>:<channel>:<provider message id>", workspace_id, id,
channel_id, sender_id, link, provider_message_id, traffic, message, sent_at, received_at,
reply_to, status: [{value, at, error}]}``; ``id`` from one counter per workspace
(``message_counters``), allocated per batch outside the transaction (gaps, never reuse).
A contact's messages are those of its links: ``{workspace_id, link: {$in: links}}`` by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.channels.domain.messages import SenderLink, StatusEntry, StoredMessage
from shared.mongo import Document, increment

Session = Any


class MessageStore:
    """Sender links and messages in the service's own database."""

    def __init__(self, db: AsyncDatabase[Document]):
        self._links = db["sender_links"]
        self._messages = db["messages"]
        self._counters = db["message_counters"]

    async def ensure_indexes(self) -> None:
        """A contact's links; a link's messages newest first; a message by its integer id."""
        await self._links.create_index([("workspace_id", ASCENDING),
                                        ("contact_id", ASCENDING)])
        await self._messages.create_index([("workspace_id", ASCENDING), ("link", ASCENDING),
                                           ("id", DESCENDING)])
        await self._messages.create_index([("workspace_id", ASCENDING), ("id", ASCENDING)],
                                          unique=True)

    async def allocate_ids(self, workspace_id: str, count: int) -> int:
        """Reserve ``count`` message ids of the workspace; the first of them (outside any
        transaction: a rolled-back batch leaves a gap)."""
        last = await increment(self._counters, workspace_id, "last_id", by=count)
        return last - count + 1

    async def stored_keys(self, keys: Sequence[str], session: Session) -> set[str]:
        """Which of these message keys are stored already."""
        if not keys:
            return set()
        found = self._messages.find({"_id": {"$in": list(keys)}}, {"_id": 1}, session=session)
        return {doc["_id"] async for doc in found}

    async def insert_messages(self, messages: Sequence[StoredMessage], session: Session
                              ) -> None:
        """Store new messages (their keys are not stored yet)."""
        if messages:
            await self._messages.insert_many([_message_doc(m) for m in messages],
                                             session=session, ordered=True)

    async def touch_link(self, link: SenderLink, session: Session) -> bool:
        """Record message times on the sender's link, creating it (without a contact) if it
        is new; True when it was created."""
        before = await self._links.find_one_and_update(
            {"_id": link.key},
            {"$setOnInsert": {"workspace_id": link.workspace_id, "channel_id": link.channel_id,
                              "sender_id": link.sender_id, "source": link.source,
                              "contact_id": None, "contact_version": None},
             "$min": {"first_message_at": link.first_message_at},
             "$max": {"last_message_at": link.last_message_at}},
            upsert=True, projection={"_id": 1}, session=session)
        return before is None

    async def link(self, key: str, session: Session = None) -> SenderLink | None:
        """A sender link by key."""
        doc = await self._links.find_one({"_id": key}, session=session)
        return None if doc is None else _link(doc)

    async def set_contact(self, key: str, *, contact_id: int, version: int,
                          session: Session) -> None:
        """Set the link's contact."""
        await self._links.update_one(
            {"_id": key}, {"$set": {"contact_id": contact_id, "contact_version": version}},
            session=session)

    async def links_of(self, workspace_id: str, contact_id: int, session: Session = None
                       ) -> list[str]:
        """The keys of the contact's links."""
        found = self._links.find({"workspace_id": workspace_id, "contact_id": contact_id},
                                 {"_id": 1}, session=session)
        return [doc["_id"] async for doc in found]

    async def purge_contact(self, workspace_id: str, contact_id: int, session: Session
                            ) -> tuple[int, int]:
        """Delete the contact's links and their messages; how many of each."""
        links = await self.links_of(workspace_id, contact_id, session)
        if not links:
            return 0, 0
        gone = await self._messages.delete_many(
            {"workspace_id": workspace_id, "link": {"$in": links}}, session=session)
        await self._links.delete_many({"_id": {"$in": links}}, session=session)
        return len(links), gone.deleted_count

    async def add_status(self, key: str, entry: StatusEntry, session: Session) -> bool:
        """Append a delivery status to an outgoing message; False if there is none."""
        done = await self._messages.update_one(
            {"_id": key, "traffic": "outgoing"},
            {"$push": {"status": entry.model_dump()}}, session=session)
        return done.matched_count == 1

    async def page(self, workspace_id: str, links: Iterable[str], *, limit: int,
                   after: int | None, before: int | None
                   ) -> tuple[list[StoredMessage], bool, bool]:
        """Up to ``limit`` messages of these links, newest (highest id) first: ids below
        ``after`` (next page) or above ``before`` (previous page); whether more follow and
        precede."""
        scope = {"workspace_id": workspace_id, "link": {"$in": list(links)}}
        if before is not None:
            docs = await self._messages.find({**scope, "id": {"$gt": before}}).sort(
                "id", ASCENDING).limit(limit + 1).to_list()
            has_previous = len(docs) > limit
            docs = list(reversed(docs[:limit]))
            has_next = bool(docs) and await self._any(scope, {"$lt": docs[-1]["id"]})
        else:
            ids = {"id": {"$lt": after}} if after is not None else {}
            docs = await self._messages.find({**scope, **ids}).sort(
                "id", DESCENDING).limit(limit + 1).to_list()
            has_next = len(docs) > limit
            docs = docs[:limit]
            has_previous = bool(docs) and await self._any(scope, {"$gt": docs[0]["id"]})
        return [_message(d) for d in docs], has_next, has_previous

    async def _any(self, scope: Document, ids: Document) -> bool:
        return await self._messages.find_one({**scope, "id": ids}, {"_id": 1}) is not None

    async def get(self, workspace_id: str, message_id: int) -> StoredMessage | None:
        """A message of the workspace by its integer id."""
        doc = await self._messages.find_one({"workspace_id": workspace_id, "id": message_id})
        return None if doc is None else _message(doc)


def _message_doc(message: StoredMessage) -> Document:
    return {"_id": message.key, **message.model_dump()}


def _message(doc: Document) -> StoredMessage:
    return StoredMessage.model_validate({k: v for k, v in doc.items() if k != "_id"})


def _link(doc: Document) -> SenderLink:
    return SenderLink.model_validate({k: v for k, v in doc.items() if k != "_id"})

