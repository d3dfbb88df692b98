"""What the channels service publishes on ``topics.channels_inbound`` (``channels.inbound.v1``):
verified provider webhooks, one message per inbound message or delivery status, keyed by
``<workspace_id>:<channel_id>:<sender_id>`` so one sender's messages stay in order.

The webhook intake (channels service, behind the gateway's ``/webhooks/...``) checks the
provider's signature, parses the provider's own format into these payloads and publishes
them before answering the provider; the channels consumer stores them (deduplicated by
``provider_message_id``) and makes or finds the sender's contact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import Payload

#: respond.io's channel source names (``GET /v2/space/channel``'s ``source``).
Source = Literal[
    "whatsapp_cloud", "facebook", "instagram", "telegram", "twilio", "gmail", "other_email",
    "webchat", "custom_channel",
]


class SenderProfile(BaseModel):
    """What the provider tells about the sender (every field optional)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    profile_pic: str | None = Field(default=None, max_length=2048)
    phone: str | None = Field(default=None, max_length=32,
                              description="E.164 as the provider delivered it")
    email: str | None = Field(default=None, max_length=320)
    language: str | None = Field(default=None, max_length=35)
    country_code: str | None = Field(default=None, max_length=2)


class InboundMessage(Payload):
    """A message a contact sent on a channel (text or not), as respond.io shapes messages."""

    TYPE: ClassVar[str] = "channel.message_received"
    channel_id: int = Field(ge=1)
    source: Source
    sender_id: str = Field(min_length=1, max_length=255,
                           description="The sender's id on the channel (wa_id, PSID, number, "
                           "email address, custom id)")
    provider_message_id: str = Field(min_length=1, max_length=512,
                                     description="The provider's message id (dedup key)")
    sent_at: datetime = Field(description="When the provider says the message was sent (UTC)")
    message: dict[str, Any] = Field(
        description="respond.io's message object: {type: text, text} | {type: attachment, "
        "attachment: {type, url, ...}} | {type: location, ...} | {type: email, ...} | ..."
    )
    profile: SenderProfile = Field(default_factory=SenderProfile)
    reply_to: str | None = Field(default=None, max_length=512,
                                 description="Provider id of the message this one answers")


class DeliveryStatus(Payload):
    """The provider's news about a message we sent (WhatsApp statuses, Twilio MessageStatus)."""

    TYPE: ClassVar[str] = "channel.delivery_status"
    channel_id: int = Field(ge=1)
    source: Source
    sender_id: str = Field(min_length=1, max_length=255, description="The contact's id on "
                           "the channel (the recipient of the message)")
    provider_message_id: str = Field(min_length=1, max_length=512)
    status: Literal["sent", "delivered", "read", "failed"]
    at: datetime
    error: str | None = Field(default=None, max_length=1024)


CHANNEL_INBOUND: tuple[type[Payload], ...] = (InboundMessage, DeliveryStatus)
