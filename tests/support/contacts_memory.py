"""In-memory fakes of the contacts repositories and of the unit of work, for unit tests.

Contacts are kept as `Contact` objects and list queries (`ContactQuery`) evaluated on them
directly (`contact_query_eval.py`); the catalog keeps the tag and settings documents of
`store.py`. Both pass the same contract suite
(`tests/unit/contacts/contacts_store_contract.py`). Test code only: the service never
runs on them.

Limits, on purpose:
- `MemoryUnitOfWork` runs one unit of work at a time (an `asyncio.Lock`) and restores a
  snapshot of every participant when the work raises: all-or-nothing, serialisable, and
  never a conflict or a retry. Races between handlers (what the identifier claims and the
  tag marks guard against) are only tested on MongoDB.
- A read outside a transaction (`session=None`) while another unit of work runs sees that
  work's writes so far; MongoDB would not.
- Writes refuse to run outside a transaction, except `next_id`: the id counter is written
  outside the transaction in MongoDB too, so a failed handler does not give its id back.
- Datetimes are kept at millisecond precision, as BSON keeps them.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from services.contacts.domain.contact import Contact
from services.contacts.domain.contact_query import ContactQuery
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import Conflict
from services.contacts.domain.identifiers import Identifier
from services.contacts.domain.tags import CatalogEntry, PendingTagChange, Tag, tag_key
from services.contacts.handlers.repositories import (
    CatalogRepository,
    ContactRepository,
    Layout,
    Session,
)
from shared.contracts import ContactOrigin, Envelope
from shared.mongo import Document
from shared.unit_of_work import (
    AlreadyProcessed,
    Answer,
    IdempotencyKey,
    IdempotencyKeyReused,
    Transaction,
    UnitOfWork,
)
from tests.support.contact_query_eval import contact_matches

T = TypeVar("T")


class MemorySession:
    """The session `MemoryUnitOfWork.run` gives its work; dead once the work returns."""

    def __init__(self) -> None:
        self.active = True


def _in_transaction(session: Session) -> None:
    if not isinstance(session, MemorySession) or not session.active:
        raise RuntimeError("in-memory store: a write outside MemoryUnitOfWork.run")


class Transactional(Protocol):
    """A memory store whose state a transaction can save and put back."""

    def snapshot(self) -> object:
        """A copy of the state a transaction may change."""
        ...

    def restore(self, state: object) -> None:
        """Put back a state `snapshot` returned."""
        ...


class MemoryTransaction:
    """One attempt of a `MemoryUnitOfWork`: its session and the events it queued."""

    def __init__(self, outbox: MemoryOutbox) -> None:
        self.session = MemorySession()
        self._outbox = outbox
        self.published = 0

    async def publish(self, *, topic: str, key: str, envelope: Envelope[Any]) -> None:
        """Queue `envelope` for `topic`; kept only if the unit of work commits."""
        await self._outbox.add(self.session, topic=topic, key=key, envelope=envelope)
        self.published += 1


class MemoryUnitOfWork:
    """All-or-nothing units of work over in-memory stores (see the module's limits)."""

    def __init__(self, *participants: Transactional, outbox: MemoryOutbox | None = None):
        self.outbox = outbox or MemoryOutbox()
        self._participants = (*participants, self.outbox)
        self._lock = asyncio.Lock()
        self._processed: set[str] = set()
        self._answers: dict[str, tuple[str, Answer]] = {}
        #: How many units of work committed and how many were rolled back.
        self.commits = 0
        self.rollbacks = 0

    async def run(
        self, work: Callable[[Transaction], Awaitable[T]], *, message_ids: Sequence[str] = ()
    ) -> T:
        """Run `work(tx)`; when it raises, every participant is as it was before."""
        async with self._lock:
            if self._processed.intersection(message_ids):
                raise AlreadyProcessed(message_ids)
            saved = [p.snapshot() for p in self._participants]
            tx = MemoryTransaction(self.outbox)
            try:
                result = await work(tx)
            except BaseException:
                for participant, state in zip(self._participants, saved, strict=True):
                    participant.restore(state)
                self.rollbacks += 1
                raise
            finally:
                tx.session.active = False
            self._processed.update(message_ids)
            self.commits += 1
        if tx.published:
            self.outbox.committed()
        return result

    async def run_idempotent(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        key: IdempotencyKey,
        answer: Callable[[T], Answer],
    ) -> tuple[Answer, bool]:
        """Run `work` once per key; the same key replays the first answer."""
        stored = self._answers.get(key.record_id)
        if stored is not None:
            if stored[0] != key.fingerprint:
                raise IdempotencyKeyReused(f"Idempotency-Key: {key.key!r} was reused")
            return stored[1], True
        given = answer(await self.run(work))
        self._answers[key.record_id] = (key.fingerprint, given)
        return given, False

    async def recall(self, key: IdempotencyKey) -> Answer | None:
        """The answer stored under `key`, if any."""
        stored = self._answers.get(key.record_id)
        if stored is not None and stored[0] != key.fingerprint:
            raise IdempotencyKeyReused(f"Idempotency-Key: {key.key!r} was reused")
        return None if stored is None else stored[1]


# contacts -----------------------------------------------------------------------------------
class MemoryContactStore:
    """Contacts in a dict by (workspace, id); list queries evaluated by `contact_matches`."""

    def __init__(self) -> None:
        self._contacts: dict[tuple[str, int], Contact] = {}
        self._counters: dict[str, int] = {}
        self._claims: dict[str, int] = {}
        self._sender_links: dict[tuple[str, int, str], int] = {}

    def snapshot(self) -> object:
        """Contacts, claims, sender links; not the id counters (outside transactions)."""
        return dict(self._contacts), dict(self._claims), dict(self._sender_links)

    def restore(self, state: object) -> None:
        """Put back what `snapshot` returned."""
        self._contacts, self._claims, self._sender_links = state  # type: ignore[misc]

    async def next_ids(self, workspace_id: str, count: int) -> list[int]:
        """Allocate `count` consecutive ids."""
        first = self._counters.get(workspace_id, 0) + 1
        self._counters[workspace_id] = first + count - 1
        return list(range(first, first + count))

    async def get_many(
        self, workspace_id: str, contact_ids: Collection[int], session: Session
    ) -> dict[int, Contact]:
        """The contacts of these ids that exist, by id."""
        found = {cid: await self.get(workspace_id, cid, session) for cid in contact_ids}
        return {cid: c for cid, c in found.items() if c is not None}

    async def insert_many(self, contacts: Sequence[Contact], session: Session) -> None:
        """Store new contacts."""
        for contact in contacts:
            await self.insert(contact, session)

    async def sender_contacts(
        self, workspace_id: str, origins: Collection[ContactOrigin], session: Session
    ) -> dict[ContactOrigin, int]:
        """The contacts made for these channel senders, by sender."""
        links = {o: self._sender_links.get((workspace_id, o.channel_id, o.sender_id))
                 for o in origins}
        return {o: cid for o, cid in links.items() if cid is not None}

    async def link_senders(
        self, workspace_id: str, links: Mapping[ContactOrigin, int], session: Session
    ) -> None:
        """Name each sender's contact; `Conflict` for a sender linked already."""
        _in_transaction(session)
        for origin, contact_id in links.items():
            key = (workspace_id, origin.channel_id, origin.sender_id)
            if key in self._sender_links:
                raise Conflict(f"sender: {origin.sender_id} is linked", field="sender_id")
            self._sender_links[key] = contact_id

    async def unlink_senders(
        self, workspace_id: str, origins: Collection[ContactOrigin], session: Session
    ) -> None:
        """Forget these senders' links."""
        _in_transaction(session)
        for origin in origins:
            self._sender_links.pop((workspace_id, origin.channel_id, origin.sender_id), None)

    async def next_id(self, workspace_id: str, session: Session) -> int:
        """Allocate the workspace's next contact id."""
        self._counters[workspace_id] = self._counters.get(workspace_id, 0) + 1
        return self._counters[workspace_id]

    async def claim_identifier(
        self, workspace_id: str, ident: Identifier, session: Session
    ) -> None:
        """Count the upserts of the identifier (transactions here never race: see limits)."""
        _in_transaction(session)
        claim = f"{workspace_id}:{ident.kind}:{ident.key}"
        self._claims[claim] = self._claims.get(claim, 0) + 1

    async def get(
        self, workspace_id: str, contact_id: int, session: Session = None
    ) -> Contact | None:
        """The contact, or None."""
        found = self._contacts.get((workspace_id, contact_id))
        return None if found is None else found.model_copy(deep=True)

    async def resolve(
        self, workspace_id: str, ident: Identifier, session: Session = None
    ) -> tuple[Contact | None, int]:
        """The contact an identifier names (oldest match) and how many contacts match it."""
        if ident.kind == "id":
            assert isinstance(ident.key, int)
            found = await self.get(workspace_id, ident.key, session)
            return found, int(found is not None)
        name = "email_key" if ident.kind == "email" else "phone_canonical"
        matching = self._find(
            workspace_id, lambda c: getattr(c, name) == ident.key, descending=False
        )
        return (matching[0] if matching else None), len(matching)

    async def insert(self, contact: Contact, session: Session) -> None:
        """Store a new contact; `Conflict` when its id exists (MongoDB: duplicate key)."""
        _in_transaction(session)
        if (contact.workspace_id, contact.id) in self._contacts:
            raise Conflict(f"contact: {contact.id} exists", field="id")
        self._contacts[contact.workspace_id, contact.id] = _as_stored(contact)

    async def replace(self, contact: Contact, session: Session) -> None:
        """Store a changed contact; refuses when someone else changed it first."""
        _in_transaction(session)
        stored = self._contacts.get((contact.workspace_id, contact.id))
        if stored is None or stored.version != contact.version - 1:
            raise Conflict(f"contact: {contact.id} was changed concurrently; retry", field="id")
        self._contacts[contact.workspace_id, contact.id] = _as_stored(contact)

    async def delete(self, contact: Contact, session: Session) -> None:
        """Remove a contact for good."""
        _in_transaction(session)
        self._contacts.pop((contact.workspace_id, contact.id), None)

    async def page(
        self, query: ContactQuery, *, after: int | None, before: int | None, limit: int
    ) -> list[Contact]:
        """Up to `limit` contacts of a query, newest first, keyset-paginated."""
        def wanted(c: Contact) -> bool:
            return contact_matches(c, query)

        if after is not None:
            return self._find(
                query.workspace_id, lambda c: c.id < after and wanted(c), descending=True
            )[:limit]
        if before is not None:
            return self._find(
                query.workspace_id, lambda c: c.id > before and wanted(c), descending=False
            )[:limit][::-1]
        return self._find(query.workspace_id, wanted, descending=True)[:limit]

    async def exists(self, query: ContactQuery, *, above: int | None = None) -> bool:
        """Whether any contact matches (with an id above `above`, when given)."""
        floor = 0 if above is None else above
        return bool(self._find(
            query.workspace_id, lambda c: c.id > floor and contact_matches(c, query),
            descending=False,
        ))

    async def with_tag(
        self, workspace_id: str, key: str, *, after: int, limit: int
    ) -> list[Contact]:
        """Contacts carrying a tag (by key) with ids above `after`, oldest first."""
        def carries(c: Contact) -> bool:
            return c.id > after and key in {tag_key(t) for t in c.tags}

        return self._find(workspace_id, carries, descending=False)[:limit]

    def _find(
        self, workspace_id: str, wanted: Callable[[Contact], bool], *, descending: bool
    ) -> list[Contact]:
        found = [
            c.model_copy(deep=True) for (ws, _), c in self._contacts.items()
            if ws == workspace_id and wanted(c)
        ]
        return sorted(found, key=lambda c: c.id, reverse=descending)


def _as_stored(contact: Contact) -> Contact:
    """A copy of a contact as MongoDB gives it back: its moments to the millisecond (BSON)."""
    return contact.model_copy(
        deep=True,
        update={
            "created_at": _to_millisecond(contact.created_at),
            "updated_at": _to_millisecond(contact.updated_at),
        },
    )


def _to_millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# the catalog --------------------------------------------------------------------------------
class MemoryCatalogStore:
    """Tag entries and one settings document per workspace, shaped as `store.CatalogStore`'s."""

    def __init__(self) -> None:
        self._tags: dict[str, Document] = {}
        self._settings: dict[str, Document] = {}
        #: (workspace, counter) → last id given; never rolled back (ids are never reused).
        self._counters: dict[tuple[str, str], int] = {}

    def snapshot(self) -> object:
        """Tags and settings."""
        return copy.deepcopy((self._tags, self._settings))

    def restore(self, state: object) -> None:
        """Put back what `snapshot` returned."""
        self._tags, self._settings = state  # type: ignore[misc]

    def _next(self, workspace_id: str, counter: str) -> int:
        key = (workspace_id, counter)
        self._counters[key] = self._counters.get(key, 0) + 1
        return self._counters[key]

    async def next_tag_id(self, workspace_id: str) -> int:
        """Allocate the workspace's next tag id."""
        return self._next(workspace_id, "tag")

    async def tags(self, workspace_id: str, session: Session = None) -> list[Tag]:
        """Every tag of the workspace by key (a rename's reserved new name not yet)."""
        docs = [
            doc for doc in self._tags.values()
            if doc["workspace_id"] == workspace_id and "reserved_for" not in doc
        ]
        return [_tag(doc) for doc in sorted(docs, key=lambda doc: str(doc["key"]))]

    async def entry(self, workspace_id: str, key: str, session: Session) -> CatalogEntry | None:
        """The catalog entry of a tag key, with its pending change or reservation, or None."""
        doc = self._tags.get(f"{workspace_id}:{key}")
        return None if doc is None else _entry(doc)

    async def ensure_tags(
        self, workspace_id: str, names: list[str], session: Session
    ) -> dict[str, str]:
        """Create the tags the catalog lacks; return tag_key → the name to assign."""
        _in_transaction(session)
        spelled: dict[str, str] = {}
        for name in names:
            key = tag_key(name)
            doc = self._tags.setdefault(
                f"{workspace_id}:{key}",
                {"workspace_id": workspace_id, "key": key, "name": name, "assigns": 0},
            )
            doc["assigns"] = int(doc.get("assigns") or 0) + 1
            if doc.get("id") is None:
                doc["id"] = self._next(workspace_id, "tag")
            spelled[key] = _entry(doc).assigned_name()
        return spelled

    async def create_tag(self, workspace_id: str, tag: Tag, session: Session) -> None:
        """Add a tag; 409 when the name is taken."""
        self._insert_tag(workspace_id, tag, {}, session)

    async def save_tag(self, workspace_id: str, tag: Tag, session: Session) -> None:
        """Restyle a tag (same key)."""
        _in_transaction(session)
        doc = self._tags.get(f"{workspace_id}:{tag.key}")
        if doc is not None:
            doc.update(tag.model_dump())

    async def reserve(self, workspace_id: str, tag: Tag, *, for_key: str, session: Session) -> None:
        """Reserve a rename's new key for the tag `for_key`; 409 when the name is taken."""
        self._insert_tag(workspace_id, tag, {"reserved_for": for_key}, session)

    def _insert_tag(
        self, workspace_id: str, tag: Tag, extra: Document, session: Session
    ) -> None:
        _in_transaction(session)
        doc_id = f"{workspace_id}:{tag.key}"
        if doc_id in self._tags:
            raise Conflict.for_value("name", tag.name, "is already a tag of this workspace")
        self._tags[doc_id] = {
            "workspace_id": workspace_id, "key": tag.key, **tag.model_dump(), **extra
        }

    async def mark(
        self, workspace_id: str, key: str, pending: PendingTagChange, session: Session
    ) -> None:
        """Record that a rename or deletion of the tag has started."""
        _in_transaction(session)
        doc = self._tags.get(f"{workspace_id}:{key}")
        if doc is not None:
            doc["pending"] = pending.model_dump()

    async def finish_rename(
        self, workspace_id: str, old_key: str, tag: Tag, session: Session
    ) -> None:
        """End a rename: the new entry takes the tag's name and style, the old key goes."""
        _in_transaction(session)
        doc = self._tags.get(f"{workspace_id}:{tag.key}")
        if doc is not None:
            doc.update(tag.model_dump())
            doc.pop("pending", None)
            doc.pop("reserved_for", None)
        if old_key != tag.key:
            self._tags.pop(f"{workspace_id}:{old_key}", None)

    async def delete_tag(self, workspace_id: str, key: str, session: Session) -> None:
        """Remove a tag from the catalog."""
        _in_transaction(session)
        self._tags.pop(f"{workspace_id}:{key}", None)

    async def layout(self, workspace_id: str, session: Session = None) -> Layout:
        """Custom field definitions (in creation order) and the saved field order."""
        doc = self._settings.get(workspace_id) or {}
        return Layout(
            custom_fields=[CustomFieldDefinition.model_validate(d)
                           for d in doc.get("custom_fields") or []],
            field_order=list(doc.get("field_order") or []) or None,
        )

    async def custom_fields(
        self, workspace_id: str, session: Session = None
    ) -> list[CustomFieldDefinition]:
        """Definitions in the order they were created."""
        return (await self.layout(workspace_id, session)).custom_fields

    async def create_custom_field(
        self, workspace_id: str, defn: CustomFieldDefinition, session: Session
    ) -> None:
        """Add a definition; 409 when its name or slug is taken."""
        _in_transaction(session)
        doc = self._settings.setdefault(workspace_id, {"_id": workspace_id})
        defs = doc.setdefault("custom_fields", [])
        if any(d["name"] == defn.name or d.get("slug") == defn.slug for d in defs):
            raise Conflict.for_value("name", defn.name, "is already a custom field")
        defs.append(defn.model_dump())

    async def next_custom_field_id(self, workspace_id: str) -> int:
        """Allocate the workspace's next custom field id."""
        return self._next(workspace_id, "custom_field")

    async def set_field_order(self, workspace_id: str, fields: list[str], session: Session) -> None:
        """Save the details-view order."""
        _in_transaction(session)
        self._settings.setdefault(workspace_id, {"_id": workspace_id})["field_order"] = list(fields)


def _tag(doc: Document) -> Tag:
    return Tag.model_validate(
        {k: doc.get(k) for k in ("id", "name", "color_code", "emoji", "description")}
    )


def _entry(doc: Document) -> CatalogEntry:
    pending = doc.get("pending")
    return CatalogEntry(
        tag=_tag(doc),
        pending=None if pending is None else PendingTagChange.model_validate(pending),
        reserved_for=doc.get("reserved_for"),
    )


# the outbox ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutboxRecord:
    """One message a committed transaction queued."""

    topic: str
    key: str
    envelope: Envelope[Any]


@dataclass
class MemoryOutbox:
    """Records the envelopes of committed transactions, in the order they were added."""

    records: list[OutboxRecord] = field(default_factory=list)
    #: How many times a unit of work with events said it committed.
    notifications: int = 0

    def snapshot(self) -> object:
        """The records so far."""
        return list(self.records)

    def restore(self, state: object) -> None:
        """Drop the records of a rolled-back transaction."""
        self.records = list(state)  # type: ignore[call-overload]

    async def add(
        self, session: Session, *, topic: str, key: str, envelope: Envelope[Any]
    ) -> None:
        """Queue `envelope` for `topic` as part of `session`'s transaction."""
        _in_transaction(session)
        self.records.append(OutboxRecord(topic=topic, key=key, envelope=envelope))

    def committed(self) -> None:
        """Count the notification (there is no relay to wake)."""
        self.notifications += 1

    def types(self) -> list[str]:
        """The event types recorded, in order."""
        return [record.envelope.type for record in self.records]


if TYPE_CHECKING:  # the memory classes are the ports (checked by mypy, not at run time)
    _contacts: ContactRepository = MemoryContactStore()
    _catalog: CatalogRepository = MemoryCatalogStore()
    _uow: UnitOfWork = MemoryUnitOfWork()
