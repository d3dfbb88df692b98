"""Use cases of the contacts service: load, apply the domain rules, save with the event.

Every change commits the contact and its event (through the outbox) in one transaction;
a change that changes nothing commits nothing and publishes nothing. The use cases see
only the protocols of `ports.py`: `app.py` wires MongoDB, unit tests wire `memory.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from services.contacts.domain.changes import ContactChange, block, retag, state_of
from services.contacts.domain.contact import Contact, ContactPatch, apply_patch
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import InvalidValue, NotFound, parse_model
from services.contacts.domain.fields import email_match_key, normalize_email, normalize_phone
from services.contacts.domain.identifiers import Identifier, parse_identifier
from services.contacts.domain.listing import build_mongo_filter, parse_list_request
from services.contacts.domain.permissions import ensure_may_delete
from services.contacts.domain.settings import order_custom_fields, validate_field_order
from services.contacts.domain.tags import (
    PendingTagChange,
    Tag,
    add_tag_names,
    ensure_name_free,
    parse_tag_deletion,
    parse_tag_update,
    plan_tag_deletion,
    plan_tag_update,
    remove_tag_names,
    rename_tag_name,
    tag_key,
    validate_tag_names,
)
from services.contacts.ports import (
    CatalogRepository,
    ContactRepository,
    EventOutbox,
    Session,
    TransactionRunner,
)
from shared.contracts import (
    ContactCreated,
    ContactDeleted,
    ContactEvent,
    ContactUpdated,
    envelope_for,
)
from shared.contracts.envelope import utcnow
from shared.internal import Caller
from shared.outbox import message_key

T = TypeVar("T")
SOURCE = "contacthub/contacts"


@dataclass(frozen=True)
class Lookup:
    """A contact found by identifier, with how many contacts the identifier matched."""

    contact: Contact
    matches: int
    custom_fields: list[CustomFieldDefinition]


@dataclass(frozen=True)
class Page:
    """One page of a contact list."""

    contacts: list[Contact]
    custom_fields: list[CustomFieldDefinition]
    has_next: bool
    has_previous: bool


class ContactsService:
    """Every command and query on contacts and the workspace catalog."""

    def __init__(
        self,
        *,
        transactions: TransactionRunner,
        contacts: ContactRepository,
        catalog: CatalogRepository,
        outbox: EventOutbox,
        topic: str,
        clock: Callable[[], datetime] = utcnow,
        tag_batch_size: int = 100,
    ):
        self._transactions = transactions
        self._contacts = contacts
        self._catalog = catalog
        self._outbox = outbox
        self._topic = topic
        self._clock = clock
        self._tag_batch = tag_batch_size

    # plumbing ---------------------------------------------------------------------------
    async def _commit(self, work: Callable[[Session], Awaitable[T]]) -> T:
        result = await self._transactions.run(work)
        self._outbox.committed()
        return result

    async def _emit(
        self, session: Session, contact: Contact, event: ContactEvent
    ) -> None:
        envelope = envelope_for(
            event, source=SOURCE, subject=f"contact/{contact.id}", workspace_id=contact.workspace_id
        )
        await self._outbox.add(
            session,
            topic=self._topic,
            key=message_key(contact.workspace_id, contact.id),
            envelope=envelope,
        )

    async def _require(
        self, caller: Caller, ident: Identifier, session: Session = None
    ) -> Contact:
        contact, _ = await self._contacts.resolve(caller.workspace_id, ident, session)
        if contact is None:
            raise NotFound.for_value("identifier", _shown(ident), "matches no contact")
        return contact

    def _ident(self, caller: Caller, raw: str) -> Identifier:
        return parse_identifier(raw, default_region=caller.default_region)

    # queries ----------------------------------------------------------------------------
    async def get(self, caller: Caller, raw_identifier: str) -> Lookup:
        """The contact an identifier names (the oldest when several match)."""
        ident = self._ident(caller, raw_identifier)
        (contact, matches), defs = await asyncio.gather(
            self._contacts.resolve(caller.workspace_id, ident),
            self._ordered_custom_fields(caller.workspace_id),
        )
        if contact is None:
            raise NotFound.for_value("identifier", raw_identifier, "matches no contact")
        return Lookup(contact=contact, matches=matches, custom_fields=defs)

    async def list_contacts(
        self, caller: Caller, body: Any, *, limit: int, after: int | None, before: int | None
    ) -> Page:
        """A page of the workspace's contacts matching a search and filter, newest first."""
        query, blocked = parse_list_request(body)
        defs = await self._ordered_custom_fields(caller.workspace_id)
        mongo_filter = build_mongo_filter(
            query,
            workspace_id=caller.workspace_id,
            blocked=blocked,
            custom_field_defs=defs,
            default_region=caller.default_region,
        )
        rows = await self._contacts.page(mongo_filter, after=after, before=before, limit=limit + 1)
        if before is not None:  # walking back: the extra row is the oldest, at the end
            has_previous, rows = len(rows) > limit, rows[-limit:]
            has_next = True
        else:
            has_next, rows = len(rows) > limit, rows[:limit]
            has_previous = (
                after is not None
                and bool(rows)
                and await self._contacts.exists(
                    {"$and": [mongo_filter, {"id": {"$gt": rows[0].id}}]}
                )
            )
        return Page(contacts=rows, custom_fields=defs, has_next=has_next, has_previous=has_previous)

    # commands on one contact ------------------------------------------------------------
    async def create(self, caller: Caller, raw_identifier: str, body: Any) -> int:
        """Create a contact; the `email:`/`phone:` identifier sets that field."""
        ident = self._ident(caller, raw_identifier)
        if ident.kind == "id":
            raise InvalidValue.for_value(
                "identifier", raw_identifier, "cannot create a contact: use email: or phone:"
            )
        patch = _patch_with_identifier(body, ident, default_region=caller.default_region)
        defs = await self._catalog.custom_fields(caller.workspace_id)
        return await self._create(caller, patch, defs)

    async def _create(
        self, caller: Caller, patch: ContactPatch, defs: list[CustomFieldDefinition]
    ) -> int:
        # Validate before allocating an id, so a refused create consumes nothing.
        draft = self._draft(caller, patch, defs)
        # The id comes from an atomic counter outside the transaction: concurrent creates of
        # one workspace never conflict on it (a crash between the two leaves a gap, no reuse).
        contact = draft.model_copy(
            update={"id": await self._contacts.next_id(caller.workspace_id, None)}
        )

        async def work(session: Session) -> int:
            await self._insert(session, contact)
            return contact.id

        return await self._commit(work)

    def _draft(
        self, caller: Caller, patch: ContactPatch, defs: list[CustomFieldDefinition]
    ) -> Contact:
        """The contact a create would store, validated, before it has an id."""
        draft, _ = apply_patch(
            None,
            patch,
            workspace_id=caller.workspace_id,
            contact_id=1,
            default_region=caller.default_region,
            custom_field_defs=defs,
            now=self._clock(),
        )
        return draft

    async def _insert(self, session: Session, contact: Contact) -> None:
        await self._contacts.insert(contact, session)
        await self._emit(
            session,
            contact,
            ContactCreated(
                contact_id=contact.id, version=contact.version, contact=state_of(contact)
            ),
        )

    async def update(self, caller: Caller, raw_identifier: str, body: Any) -> int:
        """Change the fields a body sends; absent fields stay, null clears."""
        ident = self._ident(caller, raw_identifier)
        patch = ContactPatch.from_api(body)
        defs = await self._catalog.custom_fields(caller.workspace_id)

        async def work(session: Session) -> int:
            contact = await self._require(caller, ident, session)
            return await self._apply(session, caller, contact, patch, defs)

        return await self._commit(work)

    async def upsert(self, caller: Caller, raw_identifier: str, body: Any) -> int:
        """Update the contact the identifier names, or create one when none matches.

        The identifier's value is stored only when it creates: an update leaves the matched
        contact's email spelling (or phone) as it is, unless the body itself changes it.
        """
        ident = self._ident(caller, raw_identifier)
        if ident.kind == "id":
            return await self.update(caller, raw_identifier, body)
        patch = _patch_with_identifier(body, ident, default_region=caller.default_region)
        # The identifier only fills its field on create: matching `email:ANN@…` must not
        # rewrite the stored spelling of `ann@…` (emails are stored as given).
        update_patch = ContactPatch.from_api({} if body is None else body)
        defs = await self._catalog.custom_fields(caller.workspace_id)
        allocated: list[int] = []  # the id a create took, kept when the transaction retries

        async def work(session: Session) -> int:
            # The claim makes concurrent upserts of one identifier conflict: one commits, the
            # others retry and find its contact. Lookup and create are one transaction.
            await self._contacts.claim_identifier(caller.workspace_id, ident, session)
            contact, _ = await self._contacts.resolve(caller.workspace_id, ident, session)
            if contact is not None:
                return await self._apply(session, caller, contact, update_patch, defs)
            draft = self._draft(caller, patch, defs)  # validated before an id is taken
            if not allocated:  # the counter stays outside the transaction (see _create)
                allocated.append(await self._contacts.next_id(caller.workspace_id, None))
            created = draft.model_copy(update={"id": allocated[0]})
            await self._insert(session, created)
            return created.id

        return await self._commit(work)

    async def _apply(
        self,
        session: Session,
        caller: Caller,
        contact: Contact,
        patch: ContactPatch,
        defs: list[CustomFieldDefinition],
    ) -> int:
        changed_contact, changed = apply_patch(
            contact,
            patch,
            workspace_id=caller.workspace_id,
            contact_id=contact.id,
            default_region=caller.default_region,
            custom_field_defs=defs,
            now=self._clock(),
        )
        if changed:
            await self._contacts.replace(changed_contact, session)
            await self._emit(
                session,
                changed_contact,
                ContactUpdated(
                    contact_id=contact.id,
                    version=changed_contact.version,
                    changed=tuple(changed),
                    contact=state_of(changed_contact),
                ),
            )
        return contact.id

    async def delete(self, caller: Caller, raw_identifier: str) -> int:
        """Delete a contact for good (owners and managers)."""
        ensure_may_delete(caller.role)
        ident = self._ident(caller, raw_identifier)

        async def work(session: Session) -> int:
            contact = await self._require(caller, ident, session)
            await self._contacts.delete(contact, session)
            await self._emit(
                session,
                contact,
                ContactDeleted(
                    contact_id=contact.id,
                    version=contact.version + 1,
                    deleted_by=caller.user_id,
                    email=contact.email,
                    phone=contact.phone,
                ),
            )
            return contact.id

        return await self._commit(work)

    async def set_blocked(self, caller: Caller, raw_identifier: str, *, blocked: bool) -> int:
        """Block or unblock a contact; doing it twice changes nothing the second time."""
        ident = self._ident(caller, raw_identifier)

        async def work(session: Session) -> int:
            contact = await self._require(caller, ident, session)
            change = block(contact, blocked=blocked, by=caller.user_id, now=self._clock())
            if change is not None:
                await self._save(session, change)
            return contact.id

        return await self._commit(work)

    async def add_tags(self, caller: Caller, raw_identifier: str, body: Any) -> int:
        """Assign tags by name; names the catalog lacks are created in it."""
        names = validate_tag_names(body)
        ident = self._ident(caller, raw_identifier)

        async def work(session: Session) -> int:
            contact = await self._require(caller, ident, session)
            # Tags the contact has already change nothing and leave the catalog alone.
            missing = remove_tag_names(names, contact.tags)
            if not missing:
                return contact.id
            spelled = await self._catalog.ensure_tags(caller.workspace_id, missing, session)
            tags = add_tag_names(contact.tags, missing, catalog=spelled)
            await self._retag(session, contact, tags)
            return contact.id

        return await self._commit(work)

    async def remove_tags(self, caller: Caller, raw_identifier: str, body: Any) -> int:
        """Take tags off a contact; the workspace catalog keeps them."""
        names = validate_tag_names(body)
        ident = self._ident(caller, raw_identifier)

        async def work(session: Session) -> int:
            contact = await self._require(caller, ident, session)
            await self._retag(session, contact, remove_tag_names(contact.tags, names))
            return contact.id

        return await self._commit(work)

    async def _retag(self, session: Session, contact: Contact, tags: list[str]) -> None:
        change = retag(contact, tags, now=self._clock())
        if change is not None:
            await self._save(session, change)

    async def _save(self, session: Session, change: ContactChange) -> None:
        await self._contacts.replace(change.contact, session)
        await self._emit(session, change.contact, change.event)

    # the catalog ------------------------------------------------------------------------
    async def tags(self, caller: Caller) -> list[Tag]:
        """The workspace's tag catalog."""
        return await self._catalog.tags(caller.workspace_id)

    async def create_tag(self, caller: Caller, body: Any) -> Tag:
        """Add a tag to the catalog."""
        tag = parse_model(Tag, body)

        async def work(session: Session) -> None:
            await self._catalog.create_tag(caller.workspace_id, tag, session)

        await self._commit(work)
        return tag

    async def update_tag(self, caller: Caller, body: Any) -> Tag:
        """Rename or restyle a tag; contacts carrying a renamed tag follow, batch by batch.

        A rename marks the catalog entry and reserves the new name first (one transaction:
        a taken name is a 409 before any contact changes), then rewrites the contacts, then
        finalises the catalog. Repeating an interrupted rename finishes it.
        """
        update = parse_tag_update(body)
        workspace = caller.workspace_id

        async def start(session: Session) -> tuple[Tag, Tag]:
            entry = await self._catalog.entry(workspace, tag_key(update.current_name), session)
            tag = plan_tag_update(entry, update)
            assert entry is not None
            if tag.name == entry.tag.name:  # a restyle: no contact changes
                await self._catalog.save_tag(workspace, tag, session)
                return entry.tag, tag
            if tag.key != entry.key:
                target = await self._catalog.entry(workspace, tag.key, session)
                ensure_name_free(entry, tag, target)
                if target is None:
                    await self._catalog.reserve(workspace, tag, for_key=entry.key, session=session)
            await self._catalog.mark(
                workspace, entry.key, PendingTagChange(op="rename", tag=tag), session
            )
            return entry.tag, tag

        old, tag = await self._commit(start)
        if tag.name != old.name:
            await self._rewrite_tag(
                workspace, old.key, lambda tags: rename_tag_name(tags, key=old.key, name=tag.name)
            )

            async def finish(session: Session) -> None:
                await self._catalog.finish_rename(workspace, old.key, tag, session)

            await self._commit(finish)
        return tag

    async def delete_tag(self, caller: Caller, body: Any) -> None:
        """Delete a tag from the catalog and from every contact carrying it.

        Marks the entry first (assigning the tag is refused from then on), removes it from
        the contacts batch by batch, then from the catalog. Repeating an interrupted
        deletion finishes it.
        """
        name = parse_tag_deletion(body)
        workspace = caller.workspace_id

        async def start(session: Session) -> Tag:
            entry = await self._catalog.entry(workspace, tag_key(name), session)
            tag = plan_tag_deletion(entry, name)
            await self._catalog.mark(workspace, tag.key, PendingTagChange(op="delete"), session)
            return tag

        tag = await self._commit(start)
        await self._rewrite_tag(workspace, tag.key, lambda tags: remove_tag_names(tags, [tag.name]))

        async def finish(session: Session) -> None:
            await self._catalog.delete_tag(workspace, tag.key, session)

        await self._commit(finish)

    async def _rewrite_tag(
        self, workspace_id: str, key: str, rewrite: Callable[[list[str]], list[str]]
    ) -> None:
        """Change a tag on every contact carrying it, one transaction per batch.

        Runs after the catalog entry is marked, so no contact gets the old tag any more
        (assignments conflict with the mark or follow it) and one pass reaches them all.
        """
        after = 0
        while True:
            listed = await self._contacts.with_tag(
                workspace_id, key, after=after, limit=self._tag_batch
            )
            if not listed:
                return
            after = listed[-1].id  # a case-only rename keeps the key: page by id, not by tag
            batch = [c for c in listed if rewrite(c.tags) != c.tags]
            if not batch:
                continue

            async def work(session: Session, batch: list[Contact] = batch) -> None:
                for listed in batch:
                    contact = await self._contacts.get(listed.workspace_id, listed.id, session)
                    if contact is not None:
                        await self._retag(session, contact, rewrite(contact.tags))

            await self._commit(work)

    async def custom_fields(self, caller: Caller) -> list[CustomFieldDefinition]:
        """Custom field definitions in the details-view order."""
        return await self._ordered_custom_fields(caller.workspace_id)

    async def create_custom_field(self, caller: Caller, body: Any) -> CustomFieldDefinition:
        """Define a custom field."""
        defn = parse_model(CustomFieldDefinition, body)

        async def work(session: Session) -> None:
            await self._catalog.create_custom_field(caller.workspace_id, defn, session)

        await self._commit(work)
        return defn

    async def field_order(self, caller: Caller) -> list[str]:
        """The details-view order: the saved one, else standard fields then custom fields."""
        layout = await self._catalog.layout(caller.workspace_id)
        return validate_field_order(layout.field_order, layout.custom_fields, complete=True)

    async def set_field_order(self, caller: Caller, body: Any) -> list[str]:
        """Save the details-view order (every name a standard or defined custom field)."""
        fields = body.get("fields") if isinstance(body, dict) else body
        defs = await self._catalog.custom_fields(caller.workspace_id)
        order = validate_field_order(fields, defs, complete=False)

        async def work(session: Session) -> None:
            await self._catalog.set_field_order(caller.workspace_id, order, session)

        await self._commit(work)
        return validate_field_order(order, defs, complete=True)

    async def _ordered_custom_fields(self, workspace_id: str) -> list[CustomFieldDefinition]:
        layout = await self._catalog.layout(workspace_id)
        return order_custom_fields(layout.custom_fields, layout.field_order)


def _patch_with_identifier(
    body: Any, ident: Identifier, *, default_region: str | None
) -> ContactPatch:
    """The body's patch with the identifier's field set; a body that contradicts it is a 422."""
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise InvalidValue.for_value("body", body, "is not a JSON object")
    field = ident.kind
    sent = body.get(field)
    if sent is None:
        return ContactPatch.from_api({**body, field: ident.value})
    patch = ContactPatch.from_api(body)
    given = (
        normalize_phone(sent, default_region=default_region)
        if field == "phone"
        else email_match_key(normalize_email(sent))
    )
    if given != ident.key:
        raise InvalidValue.for_value(field, sent, "differs from the identifier")
    return patch


def _shown(ident: Identifier) -> str:
    return f"{ident.kind}:{ident.value}"
