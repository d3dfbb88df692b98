"""The catalog repository: tags, custom field definitions, the details-view field order."""

from __future__ import annotations

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import Conflict
from services.contacts.domain.tags import CatalogEntry, PendingTagChange, Tag, tag_key
from services.contacts.handlers.repositories import Layout
from services.contacts.store.documents import (
    Session,
)
from shared.mongo import Document, increment


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
