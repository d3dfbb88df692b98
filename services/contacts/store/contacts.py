"""The contacts repository: lookups, ids, writes, list pages, channel senders."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.contacts.domain.contact import Contact
from services.contacts.domain.contact_query import (
    ContactQuery,
)
from services.contacts.domain.errors import Conflict
from services.contacts.domain.identifiers import Identifier
from services.contacts.store.documents import (
    Session,
    document_id,
    from_document,
    list_key,
    to_document,
)
from services.contacts.store.id_windows import scan_ids
from services.contacts.store.query import mongo_filter, narrowing_keys
from shared.contracts import ContactOrigin
from shared.contracts.envelope import utcnow
from shared.mongo import Document, increment
from shared.retention import Expiry

CLAIM_TTL_S = 24 * 3600
#: A claim only matters while upserts of its identifier run; an expired one is taken again
#: by the next upsert (swept by the service: shared/retention.py).
CLAIMS_EXPIRY = Expiry("identifier_claims", "claimed_at", CLAIM_TTL_S)


class ContactStore:
    """Contacts of every workspace, one document each (shape: `domain/contact.py`)."""

    def __init__(self, db: AsyncDatabase[Document]):
        self._contacts = db["contacts"]
        self._counters = db["contact_counters"]
        self._claims = db[CLAIMS_EXPIRY.collection]
        self._sender_links = db["sender_links"]

    async def ensure_indexes(self) -> None:
        """One index per lookup and per standard-field filter of the list."""
        c = self._contacts
        await c.create_index([("workspace_id", ASCENDING), ("id", DESCENDING)], unique=True)
        # What list pages walk (store/id_windows.py): id windows, a search's pieces.
        await c.create_index([("wid", ASCENDING)])
        await c.create_index([("list_keys", ASCENDING)])
        for name in ("email_key", "phone_canonical"):  # identifier lookups: the lowest id wins
            await c.create_index(
                [("workspace_id", ASCENDING), (name, ASCENDING), ("id", ASCENDING)]
            )
        await c.create_index(
            [("workspace_id", ASCENDING), ("blocked", ASCENDING), ("id", DESCENDING)]
        )
        for name in (
            "tag_keys",
            "country_code",
            "language",
            "assignee",
            "status",
            "created_at",
            "first_name",
            "last_name",
        ):
            await c.create_index([("workspace_id", ASCENDING), (name, ASCENDING)])

    async def next_id(self, workspace_id: str, session: Session) -> int:
        """Allocate the workspace's next contact id (an atomic `$inc` on a counter document)."""
        # Never inside the caller's transaction: ids are taken outside so creates never conflict.
        return await increment(self._counters, workspace_id, "last_id")

    async def claim_identifier(
        self, workspace_id: str, ident: Identifier, session: AsyncClientSession
    ) -> None:
        """Write the identifier's claim document inside an upsert's transaction.

        Every upsert of one `email:`/`phone:` writes the same document (`$inc`, never a
        no-op), so two concurrent upserts of it conflict and the loser retries; its retry
        sees the winner's contact. The claim holds no contact id: the contact an identifier
        names is still looked up among the contacts (their emails and phones change).
        """
        await self._claims.update_one(
            {"_id": f"{workspace_id}:{ident.kind}:{ident.key}"},
            {"$inc": {"upserts": 1}, "$set": {"claimed_at": utcnow()}},
            upsert=True,
            session=session,
        )

    async def get(
        self, workspace_id: str, contact_id: int, session: Session = None
    ) -> Contact | None:
        """The contact, or None."""
        doc = await self._contacts.find_one(
            {"_id": document_id(workspace_id, contact_id)}, session=session
        )
        return None if doc is None else from_document(doc)

    async def resolve(
        self, workspace_id: str, ident: Identifier, session: Session = None
    ) -> tuple[Contact | None, int]:
        """The contact an identifier names (oldest match) and how many contacts match it."""
        if ident.kind == "id":
            assert isinstance(ident.key, int)
            found = await self.get(workspace_id, ident.key, session)
            return found, int(found is not None)
        field = "email_key" if ident.kind == "email" else "phone_canonical"
        query = {"workspace_id": workspace_id, field: ident.key}
        docs = (
            await self._contacts.find(query, session=session)
            .sort("id", ASCENDING)
            .limit(2)
            .to_list()
        )
        if not docs:
            return None, 0
        matches = len(docs)
        if matches > 1:
            matches = await self._contacts.count_documents(query, session=session)
        return from_document(docs[0]), matches

    async def insert(self, contact: Contact, session: Session) -> None:
        """Store a new contact."""
        await self._contacts.insert_one(to_document(contact), session=session)

    async def replace(self, contact: Contact, session: Session) -> None:
        """Store a changed contact; refuses when someone else changed it first."""
        result = await self._contacts.replace_one(
            {"_id": document_id(contact.workspace_id, contact.id), "version": contact.version - 1},
            to_document(contact),
            session=session,
        )
        if result.matched_count != 1:
            raise Conflict(f"contact: {contact.id} was changed concurrently; retry", field="id")

    async def delete(self, contact: Contact, session: Session) -> None:
        """Remove a contact for good."""
        await self._contacts.delete_one(
            {"_id": document_id(contact.workspace_id, contact.id)}, session=session
        )

    async def page(
        self, query: ContactQuery, *, after: int | None, before: int | None, limit: int
    ) -> list[Contact]:
        """Up to `limit` contacts of a query, newest (highest id) first, keyset-paginated.

        `after`: ids below it (the next page); `before`: ids above it (the previous page).
        Read in windows of ids (`id_windows.py`): a page costs its size, not the workspace's.
        """
        found, ws = mongo_filter(query), query.workspace_id
        narrow = narrowing_keys(query, found)
        top = await self._last_id(ws)  # no id above it: a cursor beyond it starts there
        if before is not None:
            docs = await scan_ids(self._contacts, found, workspace_id=ws, descending=False,
                                  start=before, stop=top + 1, limit=limit, narrow=narrow)
            return [from_document(doc) for doc in docs][::-1]
        start = top + 1 if after is None else min(after, top + 1)
        docs = await scan_ids(self._contacts, found, workspace_id=ws, descending=True,
                              start=start, stop=0, limit=limit, narrow=narrow)
        return [from_document(doc) for doc in docs]

    async def exists(self, query: ContactQuery, *, above: int | None = None) -> bool:
        """Whether any contact matches (with an id above `above`, when given)."""
        ws, found = query.workspace_id, mongo_filter(query)
        first = await scan_ids(self._contacts, found, workspace_id=ws,
                               descending=False, start=0 if above is None else above,
                               stop=await self._last_id(ws) + 1, limit=1,
                               narrow=narrowing_keys(query, found))
        return bool(first)

    async def with_tag(
        self, workspace_id: str, key: str, *, after: int, limit: int
    ) -> list[Contact]:
        """Contacts carrying a tag (by key) with ids above `after`, oldest first."""
        top = await self._last_id(workspace_id)
        docs = await scan_ids(self._contacts, {"workspace_id": workspace_id, "tag_keys": key},
                              workspace_id=workspace_id, descending=False, start=after,
                              stop=top + 1, limit=limit,
                              narrow=[list_key(workspace_id, "tag", key)])
        return [from_document(doc) for doc in docs]

    async def _last_id(self, workspace_id: str) -> int:
        """The highest id the workspace has handed out (0 before its first contact)."""
        doc = await self._counters.find_one({"_id": workspace_id}, {"last_id": 1})
        return 0 if doc is None else int(doc.get("last_id", 0))

    # in bulk, for batches of commands (handlers/senders.py) ----------------------------------
    async def next_ids(self, workspace_id: str, count: int) -> list[int]:
        """Allocate ``count`` consecutive ids with one atomic `$inc` (outside transactions)."""
        last = await increment(self._counters, workspace_id, "last_id", by=count)
        return list(range(last - count + 1, last + 1))

    async def get_many(
        self, workspace_id: str, contact_ids: Collection[int], session: Session
    ) -> dict[int, Contact]:
        """The contacts of these ids that exist, by id."""
        if not contact_ids:
            return {}
        ids = [document_id(workspace_id, cid) for cid in contact_ids]
        found = self._contacts.find({"_id": {"$in": ids}}, session=session)
        return {c.id: c for c in [from_document(doc) async for doc in found]}

    async def insert_many(self, contacts: Sequence[Contact], session: Session) -> None:
        """Store new contacts (one write)."""
        if contacts:
            await self._contacts.insert_many([to_document(c) for c in contacts],
                                             session=session)

    async def sender_contacts(
        self, workspace_id: str, origins: Collection[ContactOrigin], session: Session
    ) -> dict[ContactOrigin, int]:
        """The contacts made for these channel senders, by sender (one read)."""
        if not origins:
            return {}
        by_id = {_sender_link_id(workspace_id, o): o for o in origins}
        found = self._sender_links.find({"_id": {"$in": list(by_id)}}, session=session)
        return {by_id[doc["_id"]]: int(doc["contact_id"]) async for doc in found}

    async def link_senders(
        self, workspace_id: str, links: Mapping[ContactOrigin, int], session: Session
    ) -> None:
        """Name each sender's contact (one link per workspace, channel and sender; a sender
        that has one already is a duplicate key: `unlink_senders` first to replace it)."""
        if not links:
            return
        now = utcnow()
        await self._sender_links.insert_many(
            [
                {"_id": _sender_link_id(workspace_id, origin), "workspace_id": workspace_id,
                 "channel_id": origin.channel_id, "sender_id": origin.sender_id,
                 "contact_id": contact_id, "linked_at": now}
                for origin, contact_id in links.items()
            ],
            ordered=True,
            session=session,
        )

    async def unlink_senders(
        self, workspace_id: str, origins: Collection[ContactOrigin], session: Session
    ) -> None:
        """Forget these senders' links (their contacts are gone)."""
        if origins:
            ids = [_sender_link_id(workspace_id, o) for o in origins]
            await self._sender_links.delete_many({"_id": {"$in": ids}}, session=session)


def _sender_link_id(workspace_id: str, origin: ContactOrigin) -> str:
    return f"{workspace_id}:{origin.channel_id}:{origin.sender_id}"
