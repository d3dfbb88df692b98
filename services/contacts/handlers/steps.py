"""Steps several contacts handlers share: find the contact, save a change with its event."""

from __future__ import annotations

from services.contacts.domain.contact import Contact
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import NotFound
from services.contacts.domain.field_order import order_custom_fields
from services.contacts.domain.identifiers import Identifier
from services.contacts.domain.versioning import ContactChange, retag
from services.contacts.handlers.deps import Deps
from shared.contracts import ContactEvent, envelope_for
from shared.outbox import message_key
from shared.unit_of_work import Transaction

SOURCE = "contacthub/contacts"


async def require_contact(
    deps: Deps, workspace_id: str, ident: Identifier, tx: Transaction | None = None
) -> Contact:
    """The contact an identifier names, read in `tx` when given; 404 when none matches."""
    contact, _ = await deps.contacts.resolve(
        workspace_id, ident, None if tx is None else tx.session
    )
    if contact is None:
        raise NotFound.for_value("identifier", f"{ident.kind}:{ident.value}", "matches no contact")
    return contact


async def publish_event(tx: Transaction, deps: Deps, contact: Contact, event: ContactEvent) -> None:
    """Queue a contact's event in the transaction, keyed by the contact."""
    envelope = envelope_for(
        event, source=SOURCE, subject=f"contact/{contact.id}", workspace_id=contact.workspace_id
    )
    await tx.publish(
        topic=deps.topic, key=message_key(contact.workspace_id, contact.id), envelope=envelope
    )


async def save_change(tx: Transaction, deps: Deps, change: ContactChange) -> None:
    """Store a contact's next version and queue the event that tells about it."""
    await deps.contacts.replace(change.contact, tx.session)
    await publish_event(tx, deps, change.contact, change.event)


async def save_tags(tx: Transaction, deps: Deps, contact: Contact, tags: list[str]) -> None:
    """Give a contact a new tag list; nothing happens when it has those tags already."""
    change = retag(contact, tags, now=deps.clock())
    if change is not None:
        await save_change(tx, deps, change)


async def ordered_custom_fields(deps: Deps, workspace_id: str) -> list[CustomFieldDefinition]:
    """The workspace's custom field definitions in the details-view order."""
    layout = await deps.catalog.layout(workspace_id)
    return order_custom_fields(layout.custom_fields, layout.field_order)
