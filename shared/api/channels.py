"""Shapes of the public workspace-channel API (``/v2/space/channel``) and the webhook URLs.

A channel is respond.io's ``{id, name, source, created_at}`` plus ``webhookUrl`` (ours: what
the provider is configured with). Connecting one takes ``name``, ``source`` and the connect
fields of that source (one model per source, unknown keys refused); secrets go in and never
come back out. The channels service validates with these same models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.pagination import Pagination
from shared.api.text import NotBlank
from shared.contracts.channels import Source

CHANNEL_NAME_MAX_CHARS = 255
#: Printable ASCII without spaces: app secrets, auth tokens, signing secrets.
SECRET_PATTERN = r"^[\x21-\x7e]{8,256}$"
#: A webhook verify token (Meta lets the developer choose it): printable ASCII, no spaces.
VERIFY_TOKEN_PATTERN = r"^[\x21-\x7e]{1,256}$"
#: Meta's ids (phone number id, page id): decimal digits.
META_ID_PATTERN = r"^[0-9]{1,32}$"
#: A phone number in E.164: `+`, a country code and at most 15 digits in all.
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
#: WhatsApp's display number: E.164, the `+` optional (Meta's webhooks send it without).
DISPLAY_PHONE_PATTERN = r"^\+?[1-9][0-9]{6,14}$"
EMAIL_MAX_CHARS = 320
#: One-line, one `@`, no whitespace (email-validator decides the rest).
EMAIL_PATTERN = r"^[^\s@\x00-\x1f\x7f]+@[^\s@\x00-\x1f\x7f]+$"

#: The URL segment of ``/webhooks/<path>/<webhook key>`` each source's webhooks arrive on;
#: telegram and webchat have no inbound webhook yet.
WEBHOOK_PATH_OF_SOURCE: dict[str, str] = {
    "whatsapp_cloud": "whatsapp",
    "facebook": "messenger",
    "instagram": "messenger",
    "twilio": "sms",
    "gmail": "email",
    "other_email": "email",
    "custom_channel": "custom",
}
WEBHOOK_PATHS: tuple[str, ...] = ("whatsapp", "messenger", "sms", "email", "custom")
#: A webhook key: 32 random bytes, URL-safe base64 without padding (43 characters).
WEBHOOK_KEY_PATTERN = r"^[A-Za-z0-9_-]{43}$"

_NAME = Field(min_length=1, max_length=CHANNEL_NAME_MAX_CHARS, examples=["Support"],
              description="The channel's name in the workspace")


class _ChannelInputBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NotBlank = _NAME


class WhatsAppCloudInput(_ChannelInputBase):
    """Connect a WhatsApp Cloud API number."""

    source: Literal["whatsapp_cloud"]
    phoneNumberId: str = Field(pattern=META_ID_PATTERN, examples=["106540352242922"])
    displayPhoneNumber: str = Field(pattern=DISPLAY_PHONE_PATTERN, examples=["+15550783881"])
    appSecret: str = Field(pattern=SECRET_PATTERN, examples=["8f2b1c0e4a5d6e7f8a9b0c1d2e3f4a5b"],
                           description="The Meta app's secret (signs `X-Hub-Signature-256`)")
    verifyToken: str = Field(pattern=VERIFY_TOKEN_PATTERN, examples=["my-verify-token"],
                             description="Answered back in the GET verification")


class MessengerInput(_ChannelInputBase):
    """Connect a Facebook page (Messenger) or an Instagram account."""

    source: Literal["facebook", "instagram"]
    pageId: str = Field(pattern=META_ID_PATTERN, examples=["112233445566778"])
    appSecret: str = Field(pattern=SECRET_PATTERN, examples=["8f2b1c0e4a5d6e7f8a9b0c1d2e3f4a5b"])
    verifyToken: str = Field(pattern=VERIFY_TOKEN_PATTERN, examples=["my-verify-token"])


class TwilioInput(_ChannelInputBase):
    """Connect a Twilio SMS number."""

    source: Literal["twilio"]
    phoneNumber: str = Field(pattern=E164_PATTERN, examples=["+14155550100"],
                             description="The Twilio number, E.164")
    authToken: str = Field(pattern=SECRET_PATTERN, examples=["0123456789abcdef0123456789abcdef"],
                           description="The account's auth token (signs `X-Twilio-Signature`)")


class EmailInput(_ChannelInputBase):
    """Connect an email inbox (its inbound webhooks are signed with ``signingSecret``)."""

    source: Literal["gmail", "other_email"]
    address: str = Field(max_length=EMAIL_MAX_CHARS, pattern=EMAIL_PATTERN,
                         examples=["support@example.com"])
    signingSecret: str = Field(pattern=SECRET_PATTERN, examples=["whsec-0123456789abcdef"])


class CustomChannelInput(_ChannelInputBase):
    """Connect a custom channel; its API token is made here and answered once."""

    source: Literal["custom_channel"]
    idType: Literal["phone", "custom"] = Field(
        examples=["phone"], description="What `contactId` is in its webhooks")


class NameOnlyInput(_ChannelInputBase):
    """Connect a channel without an inbound webhook yet (telegram, webchat)."""

    source: Literal["telegram", "webchat"]


ChannelInputModel = (
    WhatsAppCloudInput | MessengerInput | TwilioInput | EmailInput | CustomChannelInput
    | NameOnlyInput
)
#: The body model of each source.
INPUT_OF_SOURCE: dict[str, type[_ChannelInputBase]] = {
    "whatsapp_cloud": WhatsAppCloudInput,
    "facebook": MessengerInput,
    "instagram": MessengerInput,
    "twilio": TwilioInput,
    "gmail": EmailInput,
    "other_email": EmailInput,
    "custom_channel": CustomChannelInput,
    "telegram": NameOnlyInput,
    "webchat": NameOnlyInput,
}
SOURCES: tuple[str, ...] = Source.__args__  # type: ignore[attr-defined]
#: Connect fields that are secrets: stored (the intake verifies with them), never answered.
SECRET_FIELDS = frozenset({"appSecret", "verifyToken", "authToken", "signingSecret"})


class Channel(BaseModel):
    """A channel of the workspace (respond.io's ``{id, name, source, created_at}``) and its
    webhook URL."""

    id: int = Field(examples=[1], description="Integer per workspace")
    name: str = Field(examples=["Support"])
    source: Source = Field(examples=["whatsapp_cloud"])
    created_at: int = Field(examples=[1767225600], description="Unix seconds")
    webhookUrl: str | None = Field(
        default=None, examples=["https://api.example.com/webhooks/whatsapp/3q2-x..."],
        description="What the provider is configured with (null: no inbound webhook yet)")


class ChannelCreated(Channel):
    """The answer of a connect: the channel, and a custom channel's API token (once)."""

    apiToken: str | None = Field(
        default=None, examples=["cch_9dJ0...", None],
        description="custom_channel only: the token its webhooks send as "
        "`Authorization: Bearer`; answered this once, never again")


class ChannelList(BaseModel):
    """One page of the workspace's channels, by id."""

    items: list[Channel]
    pagination: Pagination
