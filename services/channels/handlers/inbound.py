"""What the channels service does with what it consumes, inside the batch's transaction.

- `channels.inbound.v1`: each inbound message is stored once (keyed by its provider message
  id) on its sender's link; a link that is new asks contacts for the sender's contact
  (`contact.create_for_sender`, through the outbox, once per link); delivery statuses are
  appended to the outgoing message they name.
- `contacts.events.v1`: `contact.created` with an origin and `contact.sender_linked` set the
  link's contact; `contact.deleted` purges the contact's links and messages.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from services.channels.domain.messages import (
    SenderLink,
    StatusEntry,
    create_for_sender,
    incoming,
    link_key,
    links_to,
    message_key,
    sender_command_key,
)
from services.channels.handlers.deps import Deps
from shared.contracts import envelope_for
from shared.contracts.channels import DeliveryStatus, InboundMessage
from shared.contracts.contacts import ContactCreated, ContactDeleted, ContactSenderLinked
from shared.contracts.envelope import Envelope
from shared.unit_of_work import Transaction

log = logging.getLogger(__name__)
SOURCE = "contacthub/channels"


async def receive_inbound(envelopes: Sequence[Envelope[Any]], *, deps: Deps,
                          tx: Transaction) -> None:
    """Apply a batch of inbound events: messages first (stored once, links touched, new
    senders announced), then delivery statuses."""
    messages = [(e.workspaceid, e.data) for e in envelopes if isinstance(e.data, InboundMessage)]
    await _store_messages(messages, deps=deps, tx=tx)
    for envelope in envelopes:
        if isinstance(envelope.data, DeliveryStatus):
            await _record_status(envelope.workspaceid, envelope.data, deps=deps, tx=tx)


async def _store_messages(messages: Sequence[tuple[str, InboundMessage]], *, deps: Deps,
                          tx: Transaction) -> None:
    unique: dict[str, tuple[str, InboundMessage]] = {}
    for workspace, data in messages:
        unique.setdefault(message_key(workspace, data.channel_id, data.provider_message_id),
                          (workspace, data))
    stored = await deps.messages.stored_keys(list(unique), tx.session)
    new = [item for key, item in unique.items() if key not in stored]
    if not new:
        return
    first_ids = {workspace: await deps.messages.allocate_ids(workspace, count)
                 for workspace, count in Counter(w for w, _ in new).items()}
    now = deps.clock()
    stored_messages = []
    by_link: dict[str, list[tuple[str, InboundMessage]]] = {}
    for workspace, data in new:
        stored_messages.append(incoming(data, workspace_id=workspace,
                                        message_id=first_ids[workspace], received_at=now))
        first_ids[workspace] += 1
        by_link.setdefault(link_key(workspace, data.channel_id, data.sender_id), []).append(
            (workspace, data))
    await deps.messages.insert_messages(stored_messages, tx.session)
    for run in by_link.values():
        workspace, first = run[0]
        times = [data.sent_at for _, data in run]
        link = SenderLink(workspace_id=workspace, channel_id=first.channel_id,
                          sender_id=first.sender_id, source=first.source,
                          first_message_at=min(times), last_message_at=max(times))
        if await deps.messages.touch_link(link, tx.session):
            command = create_for_sender(first)
            await tx.publish(
                topic=deps.commands_topic,
                key=sender_command_key(workspace, first.channel_id, first.sender_id),
                envelope=envelope_for(command, source=SOURCE,
                                      subject=f"sender/{first.channel_id}:{first.sender_id}",
                                      workspace_id=workspace))


async def _record_status(workspace: str, data: DeliveryStatus, *, deps: Deps,
                         tx: Transaction) -> None:
    entry = StatusEntry(value=data.status, at=data.at, error=data.error)
    key = message_key(workspace, data.channel_id, data.provider_message_id)
    if not await deps.messages.add_status(key, entry, tx.session):
        # Only messages sent through contacthub are outgoing messages here; a status of a
        # message sent elsewhere (the provider's own app) has nothing to apply to.
        log.info("delivery status %s of %s: no outgoing message with that id; ignored",
                 data.status, key)


async def apply_contact_events(envelopes: Sequence[Envelope[Any]], *, deps: Deps,
                               tx: Transaction) -> None:
    """Apply contact events in order: link answers set a link's contact (version-aware),
    a deletion purges the contact's links and messages; other events are only recorded."""
    for envelope in envelopes:
        data = envelope.data
        workspace = envelope.workspaceid
        origin = data.origin if isinstance(data, ContactCreated | ContactSenderLinked) else None
        if origin is not None:
            key = link_key(workspace, origin.channel_id, origin.sender_id)
            link = await deps.messages.link(key, tx.session)
            if links_to(link, contact_id=data.contact_id, version=data.version):
                await deps.messages.set_contact(key, contact_id=data.contact_id,
                                                version=data.version, session=tx.session)
        elif isinstance(data, ContactDeleted):
            links, messages = await deps.messages.purge_contact(workspace, data.contact_id,
                                                                tx.session)
            log.info("contact %s/%s deleted: %d link(s), %d message(s) purged", workspace,
                     data.contact_id, links, messages)
