"""Use cases on one contact or a list of contacts: read, create, change, tag, block, delete."""

from __future__ import annotations

import asyncio
from typing import Any

from services.contacts.domain.changes import block, state_of
from services.contacts.domain.contact import Contact, ContactPatch, apply_patch
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import InvalidValue, NotFound
from services.contacts.domain.fields import email_match_key, normalize_email, normalize_phone
from services.contacts.domain.identifiers import Identifier
from services.contacts.domain.listing import build_mongo_filter, parse_list_request
from services.contacts.domain.permissions import ensure_may_delete
from services.contacts.domain.tags import (
    add_tag_names,
    remove_tag_names,
    validate_tag_names,
)
from services.contacts.handlers.base import Lookup, Page, UseCases
from services.contacts.ports import (
    Session,
)
from shared.contracts import (
    ContactCreated,
    ContactDeleted,
    ContactUpdated,
)
from shared.internal import Caller


class ContactUseCases(UseCases):
    """Queries and commands on the workspace's contacts."""

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
