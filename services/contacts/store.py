"""MongoDB repositories of the contacts service: contacts, the tag catalog, custom fields.

Every query is filtered by workspace. Writes take the unit of work's session. `ContactStore`
and `CatalogStore` implement `handlers.repositories.ContactRepository` and
`CatalogRepository`; the mapping between stored documents and the domain's aggregates
lives here and nowhere else.

Stored contact (collection `contacts`, one per contact; `to_document` / `from_document`):

    {
      "_id": "<workspace_id>:<id>",         # contact ids are unique per workspace only
      "workspace_id": str, "id": int,
      "first_name": str | None, "last_name": str | None,
      "email": str | None,                  # as given (stripped)
      "email_key": str | None,              # email lower-cased: what matching and filters use
      "phone": str | None,                  # E.164; a provider's number as delivered
      "phone_canonical": str | None,        # canonical E.164 of phone: what `phone:` matches
      "country_code": str | None,           # ISO 3166-1 alpha-2
      "country_manual": bool,               # True: set by a user, never derived from the phone
      "language": str | None,               # ISO 639-1 / BCP-47, canonical case
      "profile_pic": str | None, "assignee": int | None,  # a user id
      "status": "open" | "close" | None,    # follows the conversation; read-only here
      "lifecycle": str | None,              # the lifecycle stage; None until lifecycles exist
      "blocked": bool,
      "tags": [str],                        # display names, unique by tag_key, order kept
      "tag_keys": [str],                    # casefolded tags, for filters
      "custom_fields": {name: value},       # stored forms from validate_custom_value
      "created_at": datetime, "updated_at": datetime,   # UTC
      "version": int                        # 1 on create, +1 on every change
    }
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.contacts.domain.contact import Contact
from services.contacts.domain.contact_query import (
    Condition,
    ContactQuery,
    Criterion,
    FieldRef,
    Group,
)
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import Conflict
from services.contacts.domain.identifiers import Identifier
from services.contacts.domain.tags import CatalogEntry, PendingTagChange, Tag, tag_key
from services.contacts.handlers.repositories import Layout
from shared.contracts import ContactOrigin
from shared.contracts.envelope import utcnow
from shared.mongo import Document, increment

Session = AsyncClientSession | None
CLAIM_TTL_S = 24 * 3600


def document_id(workspace_id: str, contact_id: int) -> str:
    """The `_id` of a stored contact."""
    return f"{workspace_id}:{contact_id}"


def to_document(contact: Contact) -> Document:
    """The stored document of a contact (shape in the module docstring)."""
    return {
        "_id": document_id(contact.workspace_id, contact.id),
        **contact.model_dump(),
        "phone_canonical": contact.phone_canonical,
        "tag_keys": [tag_key(name) for name in contact.tags],
        "search_text": search_text(contact),
    }


#: The fields a search looks in (the domain's `listing._SEARCHED`), joined in `search_text`.
SEARCHED = ("first_name", "last_name", "email_key", "phone")


def search_text(contact: Contact) -> str:
    """The searched fields of a contact in one string, one per line: a search word (never a
    line break) matches it exactly when it matches one of the fields."""
    return "\n".join(str(v) for v in (getattr(contact, name) for name in SEARCHED) if v)


def from_document(doc: Document) -> Contact:
    """Rebuild a contact from its stored document."""
    fields = {
        key: value for key, value in doc.items()
        if key not in ("_id", "tag_keys", "phone_canonical", "search_text")
    }
    return Contact.model_validate(fields)


# the list query as a MongoDB filter ------------------------------------------------------------
def mongo_filter(query: ContactQuery) -> Document:
    """The MongoDB filter over stored contacts that answers a contact query.

    Conditions that must all hold are top-level fields where they can be (a nested `$and`
    makes the local server's planner scan every workspace: docs/operations.md); the rest
    (any-of groups, a field tested twice) go in `$and`.
    """
    result: Document = {"workspace_id": query.workspace_id}
    if query.blocked is not None:
        result["blocked"] = query.blocked
    for criterion in (query.filter, _search_words(query.search)):
        if isinstance(criterion, Group) and criterion.combinator == "all":
            for item in criterion.items:
                result = with_clause(result, _criterion(item))
        elif isinstance(criterion, dict):
            result = with_clause(result, criterion)
        elif criterion is not None:
            result = with_clause(result, _criterion(criterion))
    return result


def _search_words(search: Criterion | None) -> Criterion | Document | None:
    """A search by words becomes one regex on `search_text` (a flat field the local planner
    handles on the workspace's index, where an `$or` per word over four fields made it scan
    every workspace); any other search (a phone-like one) stays as the domain built it."""
    words = search.items if isinstance(search, Group) and search.combinator == "all" else (
        (search,) if search is not None else ())
    texts = [_word(item) for item in words]
    if not texts or any(text is None for text in texts):
        return search
    if len(texts) == 1:
        pattern = re.escape(str(texts[0]))
    else:  # every word somewhere: one lookahead per word
        pattern = "".join(f"(?=[\\s\\S]*{re.escape(str(t))})" for t in texts)
    return {"search_text": {"$regex": pattern, "$options": "i"}}


def _word(criterion: Criterion) -> str | None:
    """The word of a "this word in any searched field" group, or None for anything else."""
    if not (isinstance(criterion, Group) and criterion.combinator == "any"):
        return None
    items = criterion.items
    if len(items) != len(SEARCHED) or not all(isinstance(i, Condition) for i in items):
        return None
    conditions = [i for i in items if isinstance(i, Condition)]
    values = {c.value for c in conditions}
    if (
        [c.field.name for c in conditions] != list(SEARCHED)
        or any(c.field.custom or c.test != "contains" for c in conditions)
        or len(values) != 1
    ):
        return None
    return str(values.pop())


def with_clause(base: Document, clause: Document) -> Document:
    """`base` AND `clause`, flat where no field of `clause` is in `base` already."""
    if any(key.startswith("$") or key in base for key in clause):
        return {**base, "$and": [*base.get("$and", ()), clause]}
    return {**base, **clause}


def _criterion(criterion: Criterion) -> Document:
    if isinstance(criterion, Group):
        combinator = "$and" if criterion.combinator == "all" else "$or"
        return {combinator: [_criterion(item) for item in criterion.items]}
    return _condition(criterion)


def _path(field: FieldRef) -> str:
    if field.custom:
        return f"custom_fields.{field.name}"
    return "tag_keys" if field.name == "tags" else field.name


_SET_TESTS = {"one_of": "$in", "none_of": "$nin", "all_of": "$all"}
_BOUNDS = {"greater": "$gt", "less": "$lt"}


def _condition(condition: Condition) -> Document:
    path, test, value = _path(condition.field), condition.test, condition.value
    if path == "tag_keys" and test in ("is_set", "is_empty"):
        return {"tag_keys.0": {"$exists": test == "is_set"}}
    match test:
        case "is_set":
            return {path: {"$nin": [None, ""]}}
        case "is_empty":
            return {path: {"$in": [None, ""]}}
        case "equals":
            return {path: value}
        case "not_equals":
            return {path: {"$ne": value}}
        case "one_of" | "none_of" | "all_of":
            assert isinstance(value, tuple)
            return {path: {_SET_TESTS[test]: list(value)}}
        case "greater" | "less":
            return {path: {_BOUNDS[test]: value}}
        case "contains":
            return {path: {"$regex": re.escape(str(value)), "$options": "i"}}
        case "contains_digits":
            return {path: {"$regex": re.escape(str(value))}}
    raise AssertionError(f"unhandled test {test}")  # pragma: no cover


class ContactStore:
    """Contacts of every workspace, one document each (shape: `domain/contact.py`)."""

    def __init__(self, db: AsyncDatabase[Document]):
        self._contacts = db["contacts"]
        self._counters = db["contact_counters"]
        self._claims = db["identifier_claims"]
        self._sender_links = db["sender_links"]

    async def ensure_indexes(self) -> None:
        """One index per lookup and per standard-field filter of the list."""
        c = self._contacts
        await c.create_index([("workspace_id", ASCENDING), ("id", DESCENDING)], unique=True)
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
        # A claim only matters while upserts of its identifier run; an expired one is taken
        # again by the next upsert.
        await self._claims.create_index("claimed_at", expireAfterSeconds=CLAIM_TTL_S)

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
        """
        found = mongo_filter(query)
        if after is not None:
            found = with_clause(found, {"id": {"$lt": after}})
            order = DESCENDING
        elif before is not None:
            found = with_clause(found, {"id": {"$gt": before}})
            order = ASCENDING
        else:
            order = DESCENDING
        docs = await self._contacts.find(found).sort("id", order).limit(limit).to_list()
        contacts = [from_document(doc) for doc in docs]
        return contacts if order == DESCENDING else contacts[::-1]

    async def exists(self, query: ContactQuery, *, above: int | None = None) -> bool:
        """Whether any contact matches (with an id above `above`, when given)."""
        found = mongo_filter(query)
        if above is not None:
            found = with_clause(found, {"id": {"$gt": above}})
        return await self._contacts.count_documents(found, limit=1) > 0

    async def with_tag(
        self, workspace_id: str, key: str, *, after: int, limit: int
    ) -> list[Contact]:
        """Contacts carrying a tag (by key) with ids above `after`, oldest first."""
        docs = (
            await self._contacts.find(
                {"workspace_id": workspace_id, "tag_keys": key, "id": {"$gt": after}}
            )
            .sort("id", ASCENDING)
            .limit(limit)
            .to_list()
        )
        return [from_document(doc) for doc in docs]

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


class CatalogStore:
    """The workspace catalog: tags, custom field definitions and the details-view field order."""

    def __init__(self, db: AsyncDatabase[Document]):
        self._tags = db["tags"]
        self._settings = db["workspace_settings"]
        # One counter document per workspace, beside the contact ids' (`last_id`).
        self._counters = db["contact_counters"]

    async def ensure_indexes(self) -> None:
        """Catalog lookups are by workspace."""
        await self._tags.create_index([("workspace_id", ASCENDING), ("key", ASCENDING)])

    # tags ---------------------------------------------------------------------------------
    # Tag document: {_id: "<workspace>:<key>", workspace_id, key, id: int, name, color_code,
    # emoji, description, assigns: int, pending?: {op, tag?}, reserved_for?: key} (see
    # domain/tags; a rename's reservation carries the renamed tag's id).
    async def next_tag_id(self, workspace_id: str) -> int:
        """Allocate the workspace's next tag id (an atomic `$inc`, outside transactions)."""
        return await increment(self._counters, workspace_id, "last_tag_id")

    async def tags(self, workspace_id: str, session: Session = None) -> list[Tag]:
        """Every tag of the workspace, by name (a rename's reserved new name not yet)."""
        docs = (
            await self._tags.find(
                {"workspace_id": workspace_id, "reserved_for": {"$exists": False}},
                session=session,
            )
            .sort("key", ASCENDING)
            .to_list()
        )
        return [_tag(doc) for doc in docs]

    async def entry(self, workspace_id: str, key: str, session: Session) -> CatalogEntry | None:
        """The catalog entry of a tag key, with its pending change or reservation, or None."""
        doc = await self._tags.find_one({"_id": f"{workspace_id}:{key}"}, session=session)
        return None if doc is None else _entry(doc)

    async def ensure_tags(
        self, workspace_id: str, names: list[str], session: Session
    ) -> dict[str, str]:
        """Create the tags the catalog lacks; return tag_key → the name to assign.

        Every call writes each entry (`assigns` +1), so an assignment and a rename's or
        deletion's mark of the same tag conflict and one of them retries: an assignment
        either commits before the mark (the rewrite then finds the contact) or sees it.
        """
        spelled: dict[str, str] = {}
        for name in names:
            doc = await self._tags.find_one_and_update(
                {"_id": f"{workspace_id}:{tag_key(name)}"},
                {
                    "$setOnInsert": {
                        "workspace_id": workspace_id,
                        "key": tag_key(name),
                        "name": name,
                    },
                    "$inc": {"assigns": 1},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if doc is None:  # SecantusDB may answer a racing first upsert without the document
                doc = await self._tags.find_one(
                    {"_id": f"{workspace_id}:{tag_key(name)}"}, session=session
                )
            if doc is None:
                raise RuntimeError(f"tag {name!r} was upserted but cannot be read back")
            if doc.get("id") is None:  # it enters the catalog now: it takes an id
                doc["id"] = await self.next_tag_id(workspace_id)
                await self._tags.update_one(
                    {"_id": doc["_id"]}, {"$set": {"id": doc["id"]}}, session=session
                )
            spelled[tag_key(name)] = _entry(doc).assigned_name()
        return spelled

    async def create_tag(self, workspace_id: str, tag: Tag, session: Session) -> None:
        """Add a tag; 409 when the name is taken."""
        try:
            await self._tags.insert_one(
                {
                    "_id": f"{workspace_id}:{tag.key}",
                    "workspace_id": workspace_id,
                    "key": tag.key,
                    **tag.model_dump(),
                },
                session=session,
            )
        except DuplicateKeyError:
            raise Conflict.for_value(
                "name", tag.name, "is already a tag of this workspace"
            ) from None

    async def save_tag(self, workspace_id: str, tag: Tag, session: Session) -> None:
        """Restyle a tag (same key)."""
        await self._tags.update_one(
            {"_id": f"{workspace_id}:{tag.key}"}, {"$set": tag.model_dump()}, session=session
        )

    async def reserve(self, workspace_id: str, tag: Tag, *, for_key: str, session: Session) -> None:
        """Reserve a rename's new key for the tag `for_key`; 409 when the name is taken."""
        try:
            await self._tags.insert_one(
                {
                    "_id": f"{workspace_id}:{tag.key}",
                    "workspace_id": workspace_id,
                    "key": tag.key,
                    **tag.model_dump(),
                    "reserved_for": for_key,
                },
                session=session,
            )
        except DuplicateKeyError:
            raise Conflict.for_value(
                "name", tag.name, "is already a tag of this workspace"
            ) from None

    async def mark(
        self, workspace_id: str, key: str, pending: PendingTagChange, session: Session
    ) -> None:
        """Record that a rename or deletion of the tag has started."""
        await self._tags.update_one(
            {"_id": f"{workspace_id}:{key}"},
            {"$set": {"pending": pending.model_dump()}},
            session=session,
        )

    async def finish_rename(
        self, workspace_id: str, old_key: str, tag: Tag, session: Session
    ) -> None:
        """End a rename: the new entry takes the tag's name and style, the old key goes."""
        await self._tags.update_one(
            {"_id": f"{workspace_id}:{tag.key}"},
            {"$set": tag.model_dump(), "$unset": {"pending": "", "reserved_for": ""}},
            session=session,
        )
        if old_key != tag.key:
            await self._tags.delete_one({"_id": f"{workspace_id}:{old_key}"}, session=session)

    async def delete_tag(self, workspace_id: str, key: str, session: Session) -> None:
        """Remove a tag from the catalog."""
        await self._tags.delete_one({"_id": f"{workspace_id}:{key}"}, session=session)

    # custom fields and field order: one settings document per workspace ----------------------
    async def layout(self, workspace_id: str, session: Session = None) -> Layout:
        """Custom field definitions (in creation order) and the saved field order, one read."""
        doc = await self._settings.find_one({"_id": workspace_id}, session=session) or {}
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

    async def next_custom_field_id(self, workspace_id: str) -> int:
        """Allocate the workspace's next custom field id (an atomic `$inc`, outside
        transactions)."""
        return await increment(self._counters, workspace_id, "last_custom_field_id")

    async def create_custom_field(
        self, workspace_id: str, defn: CustomFieldDefinition, session: Session
    ) -> None:
        """Add a definition (`{id, name, slug, type, options, description}`); 409 when its
        name or slug is taken (the handler names which; this is the guard)."""
        try:
            # When the name or slug exists the filter misses, and the upsert's insert of an
            # existing _id is the duplicate-key error that says so.
            await self._settings.update_one(
                {"_id": workspace_id, "custom_fields.name": {"$ne": defn.name},
                 "custom_fields.slug": {"$ne": defn.slug}},
                {"$push": {"custom_fields": defn.model_dump()}},
                upsert=True,
                session=session,
            )
        except DuplicateKeyError:
            raise Conflict.for_value("name", defn.name, "is already a custom field") from None

    async def set_field_order(self, workspace_id: str, fields: list[str], session: Session) -> None:
        """Save the details-view order."""
        await self._settings.update_one(
            {"_id": workspace_id}, {"$set": {"field_order": fields}}, upsert=True, session=session
        )


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
