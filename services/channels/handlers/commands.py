"""The commands and queries of the channels service, one frozen dataclass each.

An entry point (an internal HTTP route, later a Kafka subscriber) builds one from what it
received and hands it to `Channels.handle`, which calls the handler registered for its type.
`Message[T]` says what the handler answers (`T`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from services.channels.domain.channel import Channel, ChannelSpec
from services.channels.domain.messages import StoredMessage
from services.channels.providers.base import RawWebhook
from shared.internal import Caller

T = TypeVar("T")


@dataclass(frozen=True)
class Message(Generic[T]):
    """A command or query whose handler answers a `T`."""


# answers ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelPage:
    """One page of the workspace's channels, ids ascending."""

    channels: list[Channel]
    has_next: bool
    has_previous: bool


@dataclass(frozen=True)
class Connected:
    """A channel just connected, and a custom channel's API token (answered this once)."""

    channel: Channel
    api_token: str | None = None


@dataclass(frozen=True)
class WebhookAnswer:
    """What the provider is answered: a status, a body and its content type."""

    status: int
    body: str
    content_type: str = "application/json"
    #: How many events the webhook published on the inbound topic.
    published: int = 0


@dataclass(frozen=True)
class MessagePage:
    """One page of a contact's messages, newest first."""

    messages: list[StoredMessage]
    has_next: bool
    has_previous: bool


# commands and queries --------------------------------------------------------------------
@dataclass(frozen=True)
class ListChannels(Message[ChannelPage]):
    """A page of the workspace's channels: ids above `after` (next) or below `before`."""

    caller: Caller
    limit: int = 10
    after: int | None = None
    before: int | None = None


@dataclass(frozen=True)
class ConnectChannel(Message[Connected]):
    """Connect a channel to the workspace (owners, managers)."""

    caller: Caller
    spec: ChannelSpec


@dataclass(frozen=True)
class DeleteChannel(Message[int]):
    """Delete a channel of the workspace (owners, managers); its webhooks become unknown."""

    caller: Caller
    channel_id: int


@dataclass(frozen=True)
class ReceiveWebhook(Message[WebhookAnswer]):
    """A provider's webhook for the channel whose webhook key is `key`, at `/webhooks/<path>/`."""

    path: str
    key: str
    raw: RawWebhook


@dataclass(frozen=True)
class ListMessages(Message[MessagePage]):
    """A page of the contact's messages across its channels, newest first: ids below
    `after` (next) or above `before` (previous)."""

    caller: Caller
    contact_id: int
    limit: int = 10
    after: int | None = None
    before: int | None = None


@dataclass(frozen=True)
class GetMessage(Message[StoredMessage]):
    """One message of the contact by its `messageId`."""

    caller: Caller
    contact_id: int
    message_id: int
