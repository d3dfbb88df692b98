"""Changes of one contact and the event each publishes: a new version and its payload.

Each function answers None when the change changes nothing (no new version, no event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.contacts.domain.contact import Contact
from services.contacts.domain.tags import tag_key
from shared.contracts import (
    ContactBlocked,
    ContactEvent,
    ContactState,
    ContactTagsChanged,
    ContactUnblocked,
)


@dataclass(frozen=True)
class ContactChange:
    """A contact's next version and the event that tells about it."""

    contact: Contact
    event: ContactEvent


def block(contact: Contact, *, blocked: bool, by: str, now: datetime) -> ContactChange | None:
    """Block (or unblock) a contact; None when it already is."""
    if contact.blocked == blocked:
        return None
    changed = contact.model_copy(
        update={"blocked": blocked, "version": contact.version + 1, "updated_at": now}
    )
    event: ContactEvent = (
        ContactBlocked(contact_id=contact.id, version=changed.version, blocked_by=by)
        if blocked
        else ContactUnblocked(contact_id=contact.id, version=changed.version, unblocked_by=by)
    )
    return ContactChange(contact=changed, event=event)


def retag(contact: Contact, tags: list[str], *, now: datetime) -> ContactChange | None:
    """Give a contact a new tag list; the event names what was added and removed (by key)."""
    if tags == contact.tags:
        return None
    before, after = {tag_key(t): t for t in contact.tags}, {tag_key(t): t for t in tags}
    changed = contact.model_copy(
        update={"tags": tags, "version": contact.version + 1, "updated_at": now}
    )
    event = ContactTagsChanged(
        contact_id=contact.id,
        version=changed.version,
        added=tuple(after[k] for k in after if k not in before),
        removed=tuple(before[k] for k in before if k not in after),
        tags=tuple(tags),
    )
    return ContactChange(contact=changed, event=event)


def state_of(contact: Contact) -> ContactState:
    """The event contract's view of a contact."""
    return ContactState(
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        phone_canonical=contact.phone_canonical,
        country_code=contact.country_code,
        language=contact.language,
        profile_pic=contact.profile_pic,
        assignee=contact.assignee,
        status=contact.status,
        blocked=contact.blocked,
        tags=tuple(contact.tags),
        custom_fields=contact.custom_fields,
        created_at=contact.created_at,
    )
