"""WhatsApp Cloud API webhooks (source ``whatsapp_cloud``; ``/webhooks/whatsapp/<key>``).

Format: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
(and its ``/status`` page for ``statuses``). Connect fields: ``phoneNumberId``,
``displayPhoneNumber``, ``appSecret``, ``verifyToken``.

- GET: ``hub.mode=subscribe`` and ``hub.verify_token`` equal to the channel's verifyToken →
  answer ``hub.challenge``; else 403.
- POST: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed by appSecret>``,
  constant-time; missing or wrong → 401.
- Body ``{object: "whatsapp_business_account", entry: [{changes: [{field, value}]}]}``; one
  request may carry several entries, changes, messages and statuses (all returned, in order).
  A change whose ``metadata.phone_number_id`` is another number is *skipped*, not refused:
  Meta sends every number of an app to the app's one callback URL, and a 4xx would make it
  retry (and eventually disable the webhook) for messages that are simply not this channel's.
  Changes of other fields (``account_update``, templates...) are skipped too.
- Messages → respond.io message objects: text → ``{type: text, text}``; image, audio, video,
  document, sticker → ``{type: attachment, attachment: {type: image|audio|video|file, id,
  mimeType, caption?, fileName?, sha256?, voice?, sticker?}}`` (WhatsApp carries a media id,
  not a URL); location → ``{type: location, latitude, longitude, name?, address?}``;
  interactive button_reply/list_reply and quick-reply ``button`` → ``{type: text, text: <title>,
  replyId}``; contacts → ``{type: custom_payload, payload: {contacts: [...]}}``; reaction →
  ``{type: custom_payload, payload: {reaction: {messageId, emoji}}}``; any other type →
  ``{type: unsupported, providerType, payload}`` (recorded, never a 400).
- The sender: ``wa_id`` / ``from`` as delivered, with ``+`` in front (``+551199998888``: a
  Brazilian mobile without its ninth digit, or a Mexican ``+521...``, is kept as delivered);
  users who hide their number behind a business-scoped user id (``user_id`` / ``from_user_id``)
  are identified by it, without a phone. The profile name is split into first and last name.
- Statuses (sent, delivered, read, failed with ``errors``) → DeliveryStatus; other status
  values (``deleted``, ``played``...) are skipped.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from services.channels.providers import bodies as b
from services.channels.providers.base import ChannelKeys, InboundEvent, RawWebhook
from shared.contracts.channels import DeliveryStatus, InboundMessage, SenderProfile, Source

_WA_ID = re.compile(r"[0-9]{5,15}")
_USER_ID = re.compile(r"[A-Za-z]{2}(\.[A-Za-z]{3})?\.[A-Za-z0-9]{1,128}")
_MEDIA = {"image": "image", "audio": "audio", "video": "video", "document": "file",
          "sticker": "image"}
_STATUSES = {"sent", "delivered", "read", "failed"}


class WhatsAppCloud:
    """WhatsApp Cloud API webhook adapter."""

    path = "whatsapp"
    sources: tuple[Source, ...] = ("whatsapp_cloud",)

    def challenge(self, raw: RawWebhook, channel: ChannelKeys) -> str:
        """Meta's subscription check: the challenge if the verify token matches, else 403."""
        return b.check_verify_challenge(raw.query,
                                        verify_token=b.field(channel, "verifyToken"))

    def verify(self, raw: RawWebhook, channel: ChannelKeys) -> None:
        """``X-Hub-Signature-256`` must sign the raw body with the app secret."""
        b.check_sha256_header(raw.headers, name="x-hub-signature-256",
                              secret=b.field(channel, "appSecret"), payload=raw.body)

    @b.refusing_invalid
    def parse(self, raw: RawWebhook, channel: ChannelKeys) -> list[InboundEvent]:
        """Every message and status of this channel's number in the request."""
        body = b.load_json(raw.body)
        if b.at(body, "object", "body") != "whatsapp_business_account":
            raise b.refuse("object must be whatsapp_business_account")
        own_number = channel.fields.get("phoneNumberId")
        events: list[InboundEvent] = []
        for i, entry in enumerate(b.array(b.at(body, "entry", "body"), "entry")):
            where = f"entry[{i}]"
            for j, change in enumerate(b.opt_array(b.obj(entry, where), "changes", where)):
                events.extend(_change(b.obj(change, f"{where}.changes[{j}]"),
                                      where=f"{where}.changes[{j}]", channel=channel,
                                      own_number=own_number))
        return events


def _change(change: b.JsonObject, *, where: str, channel: ChannelKeys,
            own_number: str | None) -> list[InboundEvent]:
    if change.get("field", "messages") != "messages":
        return []
    value = b.obj(b.at(change, "value", where), f"{where}.value")
    where = f"{where}.value"
    metadata = b.obj(b.at(value, "metadata", where), f"{where}.metadata")
    number_id = b.ident(b.at(metadata, "phone_number_id", f"{where}.metadata"),
                        f"{where}.metadata.phone_number_id", max_length=64)
    if own_number is not None and number_id != own_number:
        return []  # another number of the same Meta app: not this channel's (see module doc)
    profiles = _profiles(value, where)
    events: list[InboundEvent] = []
    for k, message in enumerate(b.opt_array(value, "messages", where)):
        events.append(_message(b.obj(message, f"{where}.messages[{k}]"),
                               where=f"{where}.messages[{k}]", channel=channel,
                               profiles=profiles))
    for k, status in enumerate(b.opt_array(value, "statuses", where)):
        event = _status(b.obj(status, f"{where}.statuses[{k}]"),
                        where=f"{where}.statuses[{k}]", channel=channel)
        if event is not None:
            events.append(event)
    return events


def _sender(wa_id: Any, user_id: Any, where: str) -> tuple[str, str | None]:
    """(sender id, phone as delivered): ``+<wa_id>`` when WhatsApp shares the number, else the
    business-scoped user id."""
    if wa_id is not None:
        digits = b.ident(wa_id, f"{where} wa_id", max_length=15, pattern=_WA_ID)
        return f"+{digits}", f"+{digits}"
    if user_id is not None:
        return b.ident(user_id, f"{where} user_id", max_length=140, pattern=_USER_ID), None
    raise b.refuse(f"{where} has neither a phone number (wa_id/from) nor a user_id")


def _profiles(value: b.JsonObject, where: str) -> dict[str, SenderProfile]:
    """Sender id → profile, from ``contacts[]``."""
    profiles: dict[str, SenderProfile] = {}
    for k, contact in enumerate(b.opt_array(value, "contacts", where)):
        at = f"{where}.contacts[{k}]"
        contact = b.obj(contact, at)
        sender_id, phone = _sender(contact.get("wa_id"), contact.get("user_id"), at)
        profile = b.obj(contact.get("profile") or {}, f"{at}.profile")
        first, last = b.split_name(b.opt_text(profile, "name", f"{at}.profile",
                                              max_length=512))
        profiles[sender_id] = SenderProfile(first_name=first, last_name=last, phone=phone)
    return profiles


def _message(message: b.JsonObject, *, where: str, channel: ChannelKeys,
             profiles: dict[str, SenderProfile]) -> InboundMessage:
    sender_id, phone = _sender(message.get("from"), message.get("from_user_id"), where)
    message_id = b.ident(b.at(message, "id", where), f"{where}.id", max_length=512)
    sent_at: datetime = b.epoch(b.at(message, "timestamp", where), f"{where}.timestamp")
    kind = b.ident(b.at(message, "type", where), f"{where}.type", max_length=64)
    content, reply_to = _content(message, kind=kind, where=where)
    context = message.get("context")
    if reply_to is None and isinstance(context, dict) and context.get("id") is not None:
        reply_to = b.ident(context["id"], f"{where}.context.id", max_length=512)
    profile = profiles.get(sender_id) or SenderProfile(phone=phone)
    return InboundMessage(channel_id=channel.channel_id, source=channel.source,
                          sender_id=sender_id, provider_message_id=message_id, sent_at=sent_at,
                          message=content, profile=profile, reply_to=reply_to)


def _content(message: b.JsonObject, *, kind: str,
             where: str) -> tuple[dict[str, Any], str | None]:
    """respond.io's message object for one WhatsApp message, and the id it replies to."""
    if kind == "text":
        text = b.obj(b.at(message, "text", where), f"{where}.text")
        return {"type": "text", "text": b.text(b.at(text, "body", f"{where}.text"),
                                               f"{where}.text.body")}, None
    if kind in _MEDIA:
        return {"type": "attachment", "attachment": _media(message, kind=kind, where=where)}, None
    if kind == "location":
        return _location(b.obj(b.at(message, "location", where), f"{where}.location"),
                         f"{where}.location"), None
    if kind == "interactive":
        return _interactive(b.obj(b.at(message, "interactive", where), f"{where}.interactive"),
                            f"{where}.interactive"), None
    if kind == "button":
        button = b.obj(b.at(message, "button", where), f"{where}.button")
        content: dict[str, Any] = {"type": "text",
                                   "text": b.text(b.at(button, "text", f"{where}.button"),
                                                  f"{where}.button.text", max_length=1024)}
        payload = b.opt_text(button, "payload", f"{where}.button", max_length=1024)
        if payload is not None:
            content["replyId"] = payload
        return content, None
    if kind == "contacts":
        cards = b.array(b.at(message, "contacts", where), f"{where}.contacts", limit=100)
        return {"type": "custom_payload", "payload": {"contacts": cards}}, None
    if kind == "reaction":
        reaction = b.obj(b.at(message, "reaction", where), f"{where}.reaction")
        target = b.ident(b.at(reaction, "message_id", f"{where}.reaction"),
                         f"{where}.reaction.message_id", max_length=512)
        emoji = b.opt_text(reaction, "emoji", f"{where}.reaction", max_length=32)
        return ({"type": "custom_payload",
                 "payload": {"reaction": {"messageId": target, "emoji": emoji}}}, target)
    # Anything else (order, system, unsupported, types Meta adds later): kept as delivered.
    payload = message.get(kind)
    return ({"type": "unsupported", "providerType": kind,
             "payload": payload if payload is not None else
             {k: v for k, v in message.items() if k not in {"from", "id", "timestamp"}}}, None)


def _media(message: b.JsonObject, *, kind: str, where: str) -> dict[str, Any]:
    media = b.obj(b.at(message, kind, where), f"{where}.{kind}")
    at = f"{where}.{kind}"
    attachment: dict[str, Any] = {"type": _MEDIA[kind],
                                  "id": b.ident(b.at(media, "id", at), f"{at}.id",
                                                max_length=256)}
    for source_key, key, limit in (("mime_type", "mimeType", 255), ("caption", "caption", 4096),
                                   ("filename", "fileName", 1024), ("sha256", "sha256", 128),
                                   ("url", "url", 2048)):
        value = b.opt_text(media, source_key, at, max_length=limit)
        if value is not None:
            attachment[key] = value
    for flag in ("voice", "animated"):
        if media.get(flag) is True:
            attachment[flag] = True
    if kind == "sticker":
        attachment["sticker"] = True
    return attachment


def _location(location: b.JsonObject, where: str) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "location",
        "latitude": b.number(b.at(location, "latitude", where), f"{where}.latitude",
                             low=-90, high=90),
        "longitude": b.number(b.at(location, "longitude", where), f"{where}.longitude",
                              low=-180, high=180),
    }
    for key in ("name", "address", "url"):
        value = b.opt_text(location, key, where, max_length=1024)
        if value is not None:
            content[key] = value
    return content


def _interactive(interactive: b.JsonObject, where: str) -> dict[str, Any]:
    kind = b.at(interactive, "type", where)
    if kind not in ("button_reply", "list_reply"):
        return {"type": "unsupported", "providerType": f"interactive.{kind}",
                "payload": interactive}
    reply = b.obj(b.at(interactive, kind, where), f"{where}.{kind}")
    content: dict[str, Any] = {
        "type": "text",
        "text": b.text(b.at(reply, "title", f"{where}.{kind}"), f"{where}.{kind}.title",
                       max_length=1024),
        "replyId": b.ident(b.at(reply, "id", f"{where}.{kind}"), f"{where}.{kind}.id",
                           max_length=1024),
    }
    description = b.opt_text(reply, "description", f"{where}.{kind}", max_length=1024)
    if description is not None:
        content["description"] = description
    return content


def _status(status: b.JsonObject, *, where: str,
            channel: ChannelKeys) -> DeliveryStatus | None:
    value = b.ident(b.at(status, "status", where), f"{where}.status", max_length=32)
    message_id = b.ident(b.at(status, "id", where), f"{where}.id", max_length=512)
    at = b.epoch(b.at(status, "timestamp", where), f"{where}.timestamp")
    recipient, _ = _sender(status.get("recipient_id"), status.get("recipient_user_id"), where)
    if value not in _STATUSES:
        return None  # deleted, played, warning...: nothing to record on the message
    error = None
    if value == "failed":
        error = _errors(b.opt_array(status, "errors", where), where) or "failed"
    return DeliveryStatus(channel_id=channel.channel_id, source=channel.source,
                          sender_id=recipient, provider_message_id=message_id,
                          status=value,  # type: ignore[arg-type]  # checked above
                          at=at, error=error)


def _errors(errors: list[Any], where: str) -> str | None:
    """``code title: details`` of each error, joined; at most 1024 characters."""
    parts = []
    for k, error in enumerate(errors[:5]):
        error = b.obj(error, f"{where}.errors[{k}]")
        code = error.get("code")
        title = b.opt_text(error, "title", f"{where}.errors[{k}]", max_length=256)
        data = error.get("error_data")
        details = b.opt_text(data, "details", f"{where}.errors[{k}].error_data",
                             max_length=512) if isinstance(data, dict) else None
        part = " ".join(str(p) for p in (code, title) if p is not None)
        parts.append(f"{part}: {details}" if details else part)
    return "; ".join(p for p in parts if p)[:1024] or None
