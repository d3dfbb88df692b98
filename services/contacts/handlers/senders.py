"""Contacts for channel senders: a customer writes in on a channel for the first time.

`create_for_sender` runs inside the transaction of the subscriber that received the command
(`consumers.py`): a batch of commands is one transaction. It is idempotent by
(workspace, channel, sender): a sender link document, written in the same transaction as the
contact, names the sender's contact. A redelivered message is stopped earlier by the unit of
work's processed-message record; a second, distinct command for a known sender finds the link
and publishes `contact.sender_linked` instead of creating anything. Two commands for one
sender in flight at once both insert the same link `_id`: one commits, the other conflicts,
retries and finds the link.
"""

from __future__ import annotations

from services.contacts.domain.contact import Contact, ContactPatch, apply_patch
from services.contacts.domain.errors import InvalidValue
from services.contacts.domain.fields import country_for_phone, normalize_language
from services.contacts.domain.provider_phones import canonical_phone, delivered_phone
from services.contacts.domain.versioning import state_of
from services.contacts.handlers.deps import Deps
from services.contacts.handlers.steps import publish_event
from shared.contracts import ContactCreated, ContactSenderLinked, CreateContactForSender
from shared.unit_of_work import Transaction


async def create_for_sender(
    command: CreateContactForSender, *, workspace_id: str, deps: Deps, tx: Transaction
) -> int:
    """The sender's contact id: created with the sender's profile, or the one linked before."""
    origin = command.origin
    linked = await deps.contacts.sender_contact(workspace_id, origin, tx.session)
    if linked is not None:
        contact = await deps.contacts.get(workspace_id, linked, tx.session)
        if contact is not None:
            await publish_event(
                tx, deps, contact,
                ContactSenderLinked(contact_id=contact.id, version=contact.version, origin=origin),
            )
            return contact.id
    draft = _draft_for_sender(command, workspace_id=workspace_id, deps=deps)
    # Outside the transaction like every create (no conflicts on the counter); a retried
    # transaction takes another id and leaves a gap, never a reuse.
    contact_id = await deps.contacts.next_id(workspace_id, None)
    contact = draft.model_copy(update={"id": contact_id})
    await deps.contacts.insert(contact, tx.session)
    await deps.contacts.link_sender(workspace_id, origin, contact.id, tx.session)
    await publish_event(
        tx, deps, contact,
        ContactCreated(contact_id=contact.id, version=contact.version,
                       contact=state_of(contact), origin=origin),
    )
    return contact.id


def _draft_for_sender(
    command: CreateContactForSender, *, workspace_id: str, deps: Deps
) -> Contact:
    """The new contact, with the provider's data: the phone never refused, as delivered; a
    language the domain does not know left out (provider data, not a user's typing); an
    invalid email refused (the command goes to the dead letters with the reason)."""
    patch = ContactPatch.model_validate(
        {
            "first_name": command.first_name,
            "last_name": command.last_name,
            "email": command.email,
            "language": _language(command.language),
            "profile_pic": command.profile_pic,
        }
    )
    draft, _ = apply_patch(
        None, patch, workspace_id=workspace_id, contact_id=1, default_region=None,
        custom_field_defs=[], now=deps.clock(),
    )
    phone = delivered_phone(command.phone) if command.phone else None
    if phone is None:
        return draft
    return draft.model_copy(
        update={"phone": phone, "country_code": country_for_phone(canonical_phone(phone))}
    )


def _language(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_language(raw)
    except InvalidValue:
        return None
