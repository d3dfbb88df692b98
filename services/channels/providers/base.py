"""What every provider adapter is: verify a webhook's signature, parse its documented format.

An adapter is pure (no I/O): the webhook intake hands it the raw request and the
channel's stored connect fields, and publishes what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from shared.contracts.channels import DeliveryStatus, InboundMessage, Source


@dataclass(frozen=True)
class RawWebhook:
    """A provider's HTTP request as it arrived at the gateway."""

    method: str
    #: The full public URL the provider called (scheme, host, path, query): Twilio signs it.
    url: str
    #: Header names lower-cased.
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class ChannelKeys:
    """What the intake knows of the channel a webhook URL names."""

    workspace_id: str
    channel_id: int
    source: Source
    #: The connect fields the adapter needs (appSecret, verifyToken, authToken, phoneNumber,
    #: phoneNumberId, pageId, signingSecret, address; for custom channels ``apiTokenHash``).
    fields: Mapping[str, str] = field(default_factory=dict)


class WebhookRefused(Exception):
    """The request is refused: 401 (signature, token), 400 (malformed), 403 (verify token)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


InboundEvent = InboundMessage | DeliveryStatus


class Provider(Protocol):
    """One provider's webhook format (``/webhooks/<path>/<webhook key>``)."""

    #: The URL segment: whatsapp, messenger, sms, email, custom.
    path: str
    #: The channel sources it serves.
    sources: tuple[Source, ...]

    def challenge(self, raw: RawWebhook, channel: ChannelKeys) -> str:
        """Answer a provider's GET verification (WhatsApp/Messenger ``hub.challenge``);
        raises WebhookRefused (403 wrong verify token, 405 for providers without one)."""
        ...

    def verify(self, raw: RawWebhook, channel: ChannelKeys) -> None:
        """Check the request's signature or token; raises WebhookRefused(401)."""
        ...

    def parse(self, raw: RawWebhook, channel: ChannelKeys) -> list[InboundEvent]:
        """The messages and statuses a verified request carries (possibly none); raises
        WebhookRefused(400) when the body is not the provider's format."""
        ...
