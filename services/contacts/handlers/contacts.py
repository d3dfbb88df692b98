"""Handlers of one contact or a list of contacts: read, create, change, tag, block, delete.

Each is `async def handler(command, deps)`: load, call the domain, save with the event in
one unit of work (`deps.uow.run`). A change that changes nothing commits nothing.
"""

from __future__ import annotations

import asyncio

from services.contacts.domain.contact import Contact, ContactPatch, apply_patch
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import NotFound
from services.contacts.domain.listing import build_contact_query
from services.contacts.domain.permissions import ensure_may_delete
from services.contacts.domain.tags import add_tag_names, remove_tag_names
from services.contacts.domain.versioning import block, state_of
from services.contacts.handlers.commands import (
    AddTags,
    CreateContact,
    DeleteContact,
    GetContact,
    ListContacts,
    Lookup,
    Page,
    RemoveTags,
    SetBlocked,
    UpdateContact,
    UpsertContact,
)
from services.contacts.handlers.deps import Deps
from services.contacts.handlers.steps import (
    ordered_custom_fields,
    publish_event,
    require_contact,
    save_change,
    save_tags,
)
from shared.contracts import ContactCreated, ContactDeleted, ContactUpdated
from shared.internal import Caller
from shared.unit_of_work import Transaction


# queries --------------------------------------------------------------------------------------
async def get_contact(query: GetContact, deps: Deps) -> Lookup:
    """The contact an identifier names (the oldest when several match)."""
    workspace = query.caller.workspace_id
    (contact, matches), defs = await asyncio.gather(
        deps.contacts.resolve(workspace, query.identifier),
        ordered_custom_fields(deps, workspace),
    )
    if contact is None:
        shown = f"{query.identifier.kind}:{query.identifier.value}"
        raise NotFound.for_value("identifier", shown, "matches no contact")
    return Lookup(contact=contact, matches=matches, custom_fields=defs)


async def list_contacts(query: ListContacts, deps: Deps) -> Page:
    """A page of the workspace's contacts matching a search and filter, newest first."""
    caller, limit, after, before = query.caller, query.limit, query.after, query.before
    defs = await ordered_custom_fields(deps, caller.workspace_id)
    contact_query = build_contact_query(
        query.query,
        workspace_id=caller.workspace_id,
        blocked=query.blocked,
        custom_field_defs=defs,
        default_region=caller.default_region,
    )
    rows = await deps.contacts.page(contact_query, after=after, before=before, limit=limit + 1)
    if before is not None:  # walking back: the extra row is the oldest, at the end
        has_previous, rows = len(rows) > limit, rows[-limit:]
        has_next = True
    else:
        has_next, rows = len(rows) > limit, rows[:limit]
        # Only a page reached by `cursorId` can have newer contacts before it.
        has_previous = (
            after is not None
            and bool(rows)
            and await deps.contacts.exists(contact_query, above=rows[0].id)
        )
    return Page(contacts=rows, custom_fields=defs, has_next=has_next, has_previous=has_previous)


# commands on one contact ---------------------------------------------------------------------
async def create_contact(command: CreateContact, deps: Deps) -> int:
    """Create a contact (validated before an id is taken, so a refused create takes none)."""
    caller = command.caller
    defs = await deps.catalog.custom_fields(caller.workspace_id)
    draft = _draft(deps, caller, command.patch, defs)
    # The id comes from an atomic counter outside the transaction: concurrent creates of one
    # workspace never conflict on it (a crash between the two leaves a gap, no reuse).
    contact_id = await deps.contacts.next_id(caller.workspace_id, None)
    contact = draft.model_copy(update={"id": contact_id})

    async def work(tx: Transaction) -> int:
        await _insert(tx, deps, contact)
        return contact.id

    return await deps.uow.run(work)


async def update_contact(command: UpdateContact, deps: Deps) -> int:
    """Change the fields a patch sends; absent fields stay, null clears."""
    caller = command.caller
    defs = await deps.catalog.custom_fields(caller.workspace_id)

    async def work(tx: Transaction) -> int:
        contact = await require_contact(deps, caller.workspace_id, command.identifier, tx)
        return await _apply(tx, deps, caller, contact, command.patch, defs)

    return await deps.uow.run(work)


async def upsert_contact(command: UpsertContact, deps: Deps) -> int:
    """Update the contact the identifier names, or create one when none matches.

    The identifier's value is stored only when it creates: an update leaves the matched
    contact's email spelling (or phone) as it is, unless the body itself changes it.
    """
    caller, ident = command.caller, command.identifier
    if ident.kind == "id":
        return await update_contact(
            UpdateContact(caller=caller, identifier=ident, patch=command.update), deps
        )
    defs = await deps.catalog.custom_fields(caller.workspace_id)
    allocated: list[int] = []  # the id a create took, kept when the transaction retries

    async def work(tx: Transaction) -> int:
        # The claim makes concurrent upserts of one identifier conflict: one commits, the
        # others retry and find its contact. Lookup and create are one transaction.
        await deps.contacts.claim_identifier(caller.workspace_id, ident, tx.session)
        contact, _ = await deps.contacts.resolve(caller.workspace_id, ident, tx.session)
        if contact is not None:
            return await _apply(tx, deps, caller, contact, command.update, defs)
        draft = _draft(deps, caller, command.create, defs)  # validated before an id is taken
        if not allocated:  # the counter stays outside the transaction (see create_contact)
            allocated.append(await deps.contacts.next_id(caller.workspace_id, None))
        created = draft.model_copy(update={"id": allocated[0]})
        await _insert(tx, deps, created)
        return created.id

    return await deps.uow.run(work)


async def delete_contact(command: DeleteContact, deps: Deps) -> int:
    """Delete a contact for good (owners and managers)."""
    caller = command.caller
    ensure_may_delete(caller.role)

    async def work(tx: Transaction) -> int:
        contact = await require_contact(deps, caller.workspace_id, command.identifier, tx)
        await deps.contacts.delete(contact, tx.session)
        await publish_event(
            tx,
            deps,
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

    return await deps.uow.run(work)


async def set_blocked(command: SetBlocked, deps: Deps) -> int:
    """Block or unblock a contact; doing it twice changes nothing the second time."""
    caller = command.caller

    async def work(tx: Transaction) -> int:
        contact = await require_contact(deps, caller.workspace_id, command.identifier, tx)
        change = block(contact, blocked=command.blocked, by=caller.user_id, now=deps.clock())
        if change is not None:
            await save_change(tx, deps, change)
        return contact.id

    return await deps.uow.run(work)


async def add_tags(command: AddTags, deps: Deps) -> int:
    """Assign tags by name; names the catalog lacks are created in it."""
    workspace = command.caller.workspace_id

    async def work(tx: Transaction) -> int:
        contact = await require_contact(deps, workspace, command.identifier, tx)
        # Tags the contact has already change nothing and leave the catalog alone.
        missing = remove_tag_names(command.names, contact.tags)
        if not missing:
            return contact.id
        spelled = await deps.catalog.ensure_tags(workspace, missing, tx.session)
        await save_tags(tx, deps, contact, add_tag_names(contact.tags, missing, catalog=spelled))
        return contact.id

    return await deps.uow.run(work)


async def remove_tags(command: RemoveTags, deps: Deps) -> int:
    """Take tags off a contact; the workspace catalog keeps them."""
    workspace = command.caller.workspace_id

    async def work(tx: Transaction) -> int:
        contact = await require_contact(deps, workspace, command.identifier, tx)
        await save_tags(tx, deps, contact, remove_tag_names(contact.tags, command.names))
        return contact.id

    return await deps.uow.run(work)


# steps of the handlers above ----------------------------------------------------------------
def _draft(
    deps: Deps, caller: Caller, patch: ContactPatch, defs: list[CustomFieldDefinition]
) -> Contact:
    """The contact a create would store, validated, before it has an id."""
    draft, _ = apply_patch(
        None,
        patch,
        workspace_id=caller.workspace_id,
        contact_id=1,
        default_region=caller.default_region,
        custom_field_defs=defs,
        now=deps.clock(),
    )
    return draft


async def _insert(tx: Transaction, deps: Deps, contact: Contact) -> None:
    await deps.contacts.insert(contact, tx.session)
    await publish_event(
        tx,
        deps,
        contact,
        ContactCreated(contact_id=contact.id, version=contact.version, contact=state_of(contact)),
    )


async def _apply(
    tx: Transaction,
    deps: Deps,
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
        now=deps.clock(),
    )
    if changed:
        await deps.contacts.replace(changed_contact, tx.session)
        await publish_event(
            tx,
            deps,
            changed_contact,
            ContactUpdated(
                contact_id=contact.id,
                version=changed_contact.version,
                changed=tuple(changed),
                contact=state_of(changed_contact),
            ),
        )
    return contact.id
