"""Subscribers of the channels service, in batches (one transaction per batch).

- `channels.inbound.v1` (group `channels-inbound`): verified webhook events → messages,
  sender links, `contact.create_for_sender` for new senders, delivery statuses.
- `contacts.events.v1` (group `channels`): a sender's contact (created / linked), a deleted
  contact's purge; the other contact events are recorded as processed only (for now).

Parsing, deduplication, dead letters and outage redelivery are `shared.consuming`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker

from services.channels.handlers.deps import Deps
from services.channels.handlers.inbound import apply_contact_events, receive_inbound
from services.channels.settings import ChannelsSettings
from shared.consuming import ConsumerUnitOfWork, register_batch_consumer
from shared.contracts import Envelope
from shared.unit_of_work import Transaction

#: Consumer group of the contact events (the group `records_only` used before: its
#: processed-message records stay valid).
EVENTS_GROUP = "channels"
INBOUND_GROUP = "channels-inbound"


def register_consumers(
    broker: KafkaBroker,
    *,
    settings: ChannelsSettings,
    events_uow: ConsumerUnitOfWork,
    inbound_uow: ConsumerUnitOfWork,
    deps: Deps,
) -> None:
    """Subscribe the channels service to its two topics (before the broker starts); each
    unit of work records processed messages under its group (`runtime.uow.for_consumer`)."""

    async def inbound(envelopes: Sequence[Envelope[Any]], tx: Transaction) -> None:
        await receive_inbound(envelopes, deps=deps, tx=tx)

    async def events(envelopes: Sequence[Envelope[Any]], tx: Transaction) -> None:
        await apply_contact_events(envelopes, deps=deps, tx=tx)

    register_batch_consumer(
        broker, service=settings.service_name, settings=settings, uow=inbound_uow,
        topic=settings.topics.channels_inbound, group_id=INBOUND_GROUP, handler=inbound,
        max_records=settings.inbound_batch_size,
        description="Verified provider webhooks (`channel.message_received`, "
        "`channel.delivery_status`), key `<workspace_id>:<channel_id>:<sender_id>`: each "
        "message stored once on its sender's link; a new sender gets "
        "`contact.create_for_sender` on `contacts.commands.v1`.",
    )
    register_batch_consumer(
        broker, service=settings.service_name, settings=settings, uow=events_uow,
        topic=settings.topics.contacts_events, group_id=EVENTS_GROUP, handler=events,
        max_records=settings.inbound_batch_size,
        description="Contact events: `contact.created` (with `origin`) and "
        "`contact.sender_linked` link a sender to its contact; `contact.deleted` purges the "
        "contact's links and messages.",
    )
