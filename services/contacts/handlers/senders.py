"""Contacts for channel senders: a customer writes in on a channel for the first time.

`create_for_senders` runs inside the transaction of the subscriber that received a batch of
commands (`consumers.py`) and does the batch's work in bulk: one read of the sender links,
one of the linked contacts, one id allocation, one write each for the new contacts, their
links and their events. It is idempotent by (workspace, channel, sender): the sender link,
written in the same transaction as the contact, names the sender's contact. A redelivered
message is stopped earlier by the unit of work's processed-message record; a second,
distinct command for a known sender (in an earlier batch or the same one) finds the link and
publishes `contact.sender_linked` instead of creating anything. Two batches creating a
contact for one sender at once both write the same link `_id`: one commits, the other
conflicts, retries and finds the link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.contacts.domain.contact import Contact, ContactPatch, apply_patch
from services.contacts.domain.errors import InvalidValue
from services.contacts.domain.fields import country_for_phone, normalize_language
from services.contacts.domain.provider_phones import canonical_phone, delivered_phone
from services.contacts.domain.versioning import state_of
from services.contacts.handlers.deps import Deps
from services.contacts.handlers.steps import publish_event
from shared.contracts import (
    ContactCreated,
    ContactOrigin,
    ContactSenderLinked,
    CreateContactForSender,
)
from shared.unit_of_work import Transaction


@dataclass(frozen=True)
class SenderCommand:
    """A `contact.create_for_sender` and the workspace it came for (its envelope's)."""

    workspace_id: str
    command: CreateContactForSender


async def create_for_sender(
    command: CreateContactForSender, *, workspace_id: str, deps: Deps, tx: Transaction
) -> int:
    """The sender's contact id: created with the sender's profile, or the one linked before."""
    [contact_id] = await create_for_senders(
        [SenderCommand(workspace_id, command)], deps=deps, tx=tx
    )
    return contact_id


async def create_for_senders(
    commands: Sequence[SenderCommand], *, deps: Deps, tx: Transaction
) -> list[int]:
    """Each command's contact id, in order; events published in the commands' order.

    A command the domain refuses (an invalid email) raises before anything is written, so
    the subscriber can find it and dead-letter it alone.
    """
    answers: dict[int, int] = {}
    for workspace_id in dict.fromkeys(c.workspace_id for c in commands):
        positions = [i for i, c in enumerate(commands) if c.workspace_id == workspace_id]
        ids = await _for_workspace([commands[i].command for i in positions],
                                   workspace_id=workspace_id, deps=deps, tx=tx)
        answers.update(zip(positions, ids, strict=True))
    return [answers[i] for i in range(len(commands))]


async def _for_workspace(
    commands: Sequence[CreateContactForSender], *, workspace_id: str, deps: Deps,
    tx: Transaction,
) -> list[int]:
    origins = list(dict.fromkeys(c.origin for c in commands))
    linked = await deps.contacts.sender_contacts(workspace_id, origins, tx.session)
    existing = await deps.contacts.get_many(workspace_id, set(linked.values()), tx.session)
    known: dict[ContactOrigin, Contact] = {
        origin: existing[cid] for origin, cid in linked.items() if cid in existing
    }
    # A link whose contact is gone (deleted since) is replaced by the new contact's.
    await deps.contacts.unlink_senders(
        workspace_id, [o for o in linked if o not in known], tx.session
    )
    # Validate every new sender's contact before an id is taken (a refusal takes none).
    drafts: dict[ContactOrigin, Contact] = {}
    for command in commands:
        if command.origin not in known and command.origin not in drafts:
            drafts[command.origin] = _draft_for_sender(
                command, workspace_id=workspace_id, deps=deps
            )
    # Outside the transaction like every create (no conflicts on the counter); a retried
    # transaction takes other ids and leaves a gap, never a reuse.
    ids = await deps.contacts.next_ids(workspace_id, len(drafts)) if drafts else []
    created = {
        origin: draft.model_copy(update={"id": cid})
        for (origin, draft), cid in zip(drafts.items(), ids, strict=True)
    }
    await deps.contacts.insert_many(list(created.values()), tx.session)
    await deps.contacts.link_senders(
        workspace_id, {origin: c.id for origin, c in created.items()}, tx.session
    )
    answers: list[int] = []
    announced: set[ContactOrigin] = set()
    for command in commands:
        origin = command.origin
        if origin in created and origin not in announced:
            contact = created[origin]
            event: ContactCreated | ContactSenderLinked = ContactCreated(
                contact_id=contact.id, version=contact.version, contact=state_of(contact),
                origin=origin,
            )
            announced.add(origin)
        else:
            contact = created.get(origin) or known[origin]
            event = ContactSenderLinked(contact_id=contact.id, version=contact.version,
                                        origin=origin)
        await publish_event(tx, deps, contact, event)
        answers.append(contact.id)
    return answers


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
