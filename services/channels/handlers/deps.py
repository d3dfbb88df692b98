"""What every channels handler is given besides its command: `Deps`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.channels.domain.channel import new_api_token, new_webhook_key
from services.channels.handlers.repositories import (
    ChannelRepository,
    InboundPublisher,
    MessageRepository,
)
from services.channels.providers.base import Provider
from shared.contracts.envelope import utcnow
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Deps:
    """The repositories, the unit of work, the broker and the providers (see `bootstrap`)."""

    uow: UnitOfWork
    channels: ChannelRepository
    publisher: InboundPublisher
    #: The provider adapters by webhook path (whatsapp, messenger, sms, email, custom).
    providers: Mapping[str, Provider]
    #: Where verified webhook events go (`channels.inbound.v1`).
    inbound_topic: str
    #: Sender links and messages.
    messages: MessageRepository
    #: Where `contact.create_for_sender` goes (`contacts.commands.v1`).
    commands_topic: str
    clock: Callable[[], datetime] = utcnow
    new_webhook_key: Callable[[], str] = field(default=new_webhook_key)
    new_api_token: Callable[[], str] = field(default=new_api_token)
