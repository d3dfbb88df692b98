"""respond.io custom-channel webhooks (source ``custom_channel``; ``/webhooks/custom/<key>``).

Format: respond.io's "Custom Channel Quick Start", "Pass Messages to respond.io"
(https://help.respond.io/l/en/channels/custom-channel) and its example integration
(https://github.com/respond-io/custom-channel-integration-example, helpers/sendMessageWebhook.js)::

    Authorization: Bearer <the channel's API token>
    {"channelId": "...", "contactId": "+60177872890",
     "events": [{"type": "message", "mId": "xcvzzxcxczxczxc", "timestamp": 1767225600000,
                 "message": {"type": "text", "text": "Hello World"}}],
     "contact": {"firstName", "lastName", "profilePic", "countryCode", "email", "phone",
                 "language", "locale", "timezone"}}          # contact and its fields optional

Connect fields: ``idType`` (``phone`` or ``custom``), ``apiTokenHash`` (hex SHA-256 of the
token answered once at connect), optionally ``channelId`` (what clients send as
``channelId``; the channel's integer id as text when absent).

- GET → 405. ``Authorization: Bearer <token>`` whose SHA-256 equals ``apiTokenHash``
  (constant time), else 401.
- ``channelId`` must be this channel's (400 otherwise); ``contactId`` is the sender id: with
  idType ``phone`` a ``+`` and 5-15 digits, kept as delivered; with ``custom`` 1-50 characters
  of ``A-Za-z0-9_=+/@`` (respond.io's documented alphabet).
- ``events[]`` (1-100): ``message`` events become messages (``mId`` the provider id,
  ``timestamp`` epoch milliseconds); ``message_echo`` and ``message_status`` events are
  skipped (echoes are what the workspace sent; statuses of outbound custom messages are not
  tracked yet). Message types: ``text`` ``{text}``, ``attachment`` ``{attachment: {type:
  image|video|audio|file, url, fileName?, description?}}``, ``location`` ``{latitude,
  longitude, address?}``; any other type is a 400 naming it (the format is respond.io's own,
  and an integration is better told at once).
- ``contact`` → the sender's profile (``phone`` defaults to ``contactId`` with idType phone).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from services.channels.providers import bodies as b
from services.channels.providers.base import ChannelKeys, InboundEvent, RawWebhook, WebhookRefused
from shared.contracts.channels import InboundMessage, SenderProfile, Source

_PHONE_ID = re.compile(r"\+[0-9]{5,15}")
_CUSTOM_ID = re.compile(r"[A-Za-z0-9_=+/@]{1,50}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}")
_ATTACHMENTS = {"image", "video", "audio", "file"}
_SKIPPED_EVENTS = {"message_echo", "message_status"}


def api_token_hash(token: str) -> str:
    """What the channel stores for its API token: the token's hex SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class CustomChannel:
    """respond.io's custom-channel webhook adapter."""

    path = "custom"
    sources: tuple[Source, ...] = ("custom_channel",)

    def challenge(self, raw: RawWebhook, channel: ChannelKeys) -> str:
        """Custom channels have no subscription check."""
        raise WebhookRefused(405, "custom channel webhooks are POSTs only")

    def verify(self, raw: RawWebhook, channel: ChannelKeys) -> None:
        """``Authorization: Bearer <token>`` must hash to the channel's ``apiTokenHash``."""
        stored = b.field(channel, "apiTokenHash").lower()
        scheme, _, token = raw.headers.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise b.unauthorized("Authorization: Bearer <channel API token> is required")
        if not hmac.compare_digest(api_token_hash(token).encode("ascii"),
                                   stored.encode("ascii", "replace")):
            raise b.unauthorized("the API token is not this channel's")

    @b.refusing_invalid
    def parse(self, raw: RawWebhook, channel: ChannelKeys) -> list[InboundEvent]:
        """The message events of the request."""
        body = b.load_json(raw.body)
        own_id = channel.fields.get("channelId") or str(channel.channel_id)
        channel_id = b.ident(b.at(body, "channelId", "body"), "channelId", max_length=64)
        if channel_id != own_id:
            raise b.refuse(f"channelId {channel_id!r} is not this channel's")
        phone_ids = channel.fields.get("idType", "phone") == "phone"
        sender_id = b.ident(b.at(body, "contactId", "body"), "contactId", max_length=50,
                            pattern=_PHONE_ID if phone_ids else _CUSTOM_ID)
        profile = _profile(body.get("contact"), phone=sender_id if phone_ids else None)
        events = b.array(b.at(body, "events", "body"), "events", limit=100)
        if not events:
            raise b.refuse("events must not be empty")
        messages: list[InboundEvent] = []
        for i, event in enumerate(events):
            where = f"events[{i}]"
            event = b.obj(event, where)
            kind = b.ident(b.at(event, "type", where), f"{where}.type", max_length=32)
            if kind in _SKIPPED_EVENTS:
                continue
            if kind != "message":
                raise b.refuse(f"{where}.type must be message, message_echo or message_status")
            messages.append(InboundMessage(
                channel_id=channel.channel_id, source=channel.source, sender_id=sender_id,
                provider_message_id=b.ident(b.at(event, "mId", where), f"{where}.mId",
                                            max_length=255),
                sent_at=b.epoch(b.at(event, "timestamp", where), f"{where}.timestamp",
                                milliseconds=True),
                message=_message(b.obj(b.at(event, "message", where), f"{where}.message"),
                                 f"{where}.message"),
                profile=profile,
            ))
        return messages


def _message(message: b.JsonObject, where: str) -> dict[str, Any]:
    kind = b.at(message, "type", where)
    if kind == "text":
        return {"type": "text", "text": b.text(b.at(message, "text", where), f"{where}.text",
                                               max_length=8192)}
    if kind == "attachment":
        attachment = b.obj(b.at(message, "attachment", where), f"{where}.attachment")
        at = f"{where}.attachment"
        media_type = b.at(attachment, "type", at)
        if not isinstance(media_type, str) or media_type not in _ATTACHMENTS:
            raise b.refuse(f"{at}.type must be one of {', '.join(sorted(_ATTACHMENTS))}")
        url = b.text(b.at(attachment, "url", at), f"{at}.url", max_length=2048)
        if not url.startswith(("https://", "http://")):
            raise b.refuse(f"{at}.url must be an http(s) URL")
        content: dict[str, Any] = {"type": media_type, "url": url}
        for key in ("fileName", "description"):
            value = b.opt_text(attachment, key, at, max_length=1024)
            if value is not None:
                content[key] = value
        return {"type": "attachment", "attachment": content}
    if kind == "location":
        content = {"type": "location",
                   "latitude": b.number(b.at(message, "latitude", where), f"{where}.latitude",
                                        low=-90, high=90),
                   "longitude": b.number(b.at(message, "longitude", where),
                                         f"{where}.longitude", low=-180, high=180)}
        address = b.opt_text(message, "address", where, max_length=1024)
        if address is not None:
            content["address"] = address
        return content
    raise b.refuse(f"{where}.type {str(kind)[:40]!r} is not text, attachment or location")


def _profile(contact: Any, *, phone: str | None) -> SenderProfile:
    if contact is None:
        return SenderProfile(phone=phone)
    contact = b.obj(contact, "contact")
    given_phone = b.opt_text(contact, "phone", "contact", max_length=32)
    if given_phone is not None and not _PHONE_ID.fullmatch(given_phone):
        raise b.refuse(f"contact.phone {given_phone!r} is not in E.164 form")
    country = b.opt_text(contact, "countryCode", "contact", max_length=2)
    if country is not None and not _COUNTRY.fullmatch(country):
        raise b.refuse(f"contact.countryCode {country!r} is not an ISO 3166-1 alpha-2 code")
    language = b.opt_text(contact, "language", "contact", max_length=35)
    if language is not None and not _LANGUAGE.fullmatch(language):
        raise b.refuse(f"contact.language {language!r} is not a language code")
    email = b.opt_text(contact, "email", "contact", max_length=320)
    if email is not None and (email.count("@") != 1 or any(c.isspace() for c in email)):
        raise b.refuse(f"contact.email {email!r} is not an email address")
    return SenderProfile(
        first_name=b.opt_text(contact, "firstName", "contact", max_length=255),
        last_name=b.opt_text(contact, "lastName", "contact", max_length=255),
        profile_pic=b.opt_text(contact, "profilePic", "contact", max_length=2048),
        phone=given_phone or phone, email=email, language=language,
        country_code=country.upper() if country else None,
    )
