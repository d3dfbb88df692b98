"""Messenger Platform webhooks (sources ``facebook``, ``instagram``; ``/webhooks/messenger/<key>``).

Format: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
(and ``.../messaging_postbacks``, ``.../message-deliveries``, ``.../message-echoes``; Instagram:
https://developers.facebook.com/docs/instagram-platform/webhooks/). Connect fields: ``pageId``,
``appSecret``, ``verifyToken``. For an ``instagram`` channel ``pageId`` is the Instagram
professional account id Meta puts in ``entry[].id``.

- GET verification and ``X-Hub-Signature-256`` exactly as WhatsApp's (403 / 401).
- Body ``{object: "page"}`` for ``facebook`` channels, ``{object: "instagram"}`` for
  ``instagram`` ones (the other object → 400), ``entry[]`` with ``id`` (the page) and
  ``messaging[]``. Entries of another page are skipped (one Meta app may serve several pages
  through one callback URL), as are ``standby`` (handover) arrays.
- ``messaging[]`` items:
  - ``message`` from ``sender.id`` (the PSID / IGSID: the sender id) at ``timestamp`` (epoch
    ms): text → ``{type: text, text}`` (a quick reply adds ``replyId``); each attachment of type
    image, video, audio or file → ``{type: attachment, attachment: {type, url}}``; location
    attachments → ``{type: location, ...}``; other attachment types (fallback, template, share,
    story_mention, ig_reel...) → ``{type: unsupported, providerType, payload}``. A message with
    text and attachments, or several attachments, gives one message per part: the first keeps
    ``mid`` as its provider id, the others ``<mid>#1``, ``<mid>#2``... (stable across retries,
    so deduplication still holds). ``reply_to.mid`` → ``reply_to``.
  - ``message.is_echo`` (what the page sent) → ignored.
  - ``postback`` (a button tap) → ``{type: text, text: <title>, replyId: <payload>}``, provider
    id ``postback.mid`` (or ``postback:<sender>:<timestamp>`` when Meta gives none).
  - ``delivery`` with ``mids`` → one DeliveryStatus ``delivered`` per mid at ``watermark``;
    ``read`` → ignored (it carries only a watermark, no message id); reactions, optins,
    referrals and other callbacks → ignored.
- Messenger webhooks carry no profile (name and picture need a Graph API call): the
  SenderProfile is empty.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from services.channels.providers import bodies as b
from services.channels.providers.base import ChannelKeys, InboundEvent, RawWebhook
from shared.contracts.channels import DeliveryStatus, InboundMessage, Source

_OBJECT = {"facebook": "page", "instagram": "instagram"}
_SCOPED_ID = re.compile(r"[0-9]{1,32}")
_ATTACHMENTS = {"image", "video", "audio", "file"}


class MessengerPlatform:
    """Messenger Platform (Facebook pages and Instagram accounts) webhook adapter."""

    path = "messenger"
    sources: tuple[Source, ...] = ("facebook", "instagram")

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
        """The messages and delivery receipts of this channel's page in the request."""
        body = b.load_json(raw.body)
        expected = _OBJECT.get(channel.source, "page")
        if b.at(body, "object", "body") != expected:
            raise b.refuse(f"object must be {expected} for a {channel.source} channel")
        page_id = channel.fields.get("pageId")
        events: list[InboundEvent] = []
        for i, entry in enumerate(b.array(b.at(body, "entry", "body"), "entry")):
            where = f"entry[{i}]"
            entry = b.obj(entry, where)
            entry_id = b.ident(b.at(entry, "id", where), f"{where}.id", max_length=64)
            if page_id is not None and entry_id != page_id:
                continue  # another page of the same Meta app (see module doc)
            for j, item in enumerate(b.opt_array(entry, "messaging", where)):
                events.extend(_item(b.obj(item, f"{where}.messaging[{j}]"),
                                    where=f"{where}.messaging[{j}]", channel=channel))
        return events


def _item(item: b.JsonObject, *, where: str, channel: ChannelKeys) -> list[InboundEvent]:
    sender = b.obj(b.at(item, "sender", where), f"{where}.sender")
    sender_id = b.ident(b.at(sender, "id", f"{where}.sender"), f"{where}.sender.id",
                        max_length=32, pattern=_SCOPED_ID)
    message = item.get("message")
    if isinstance(message, dict) and message.get("is_echo") is True:
        return []  # what the page itself sent
    if "message" in item:
        sent_at = b.epoch(b.at(item, "timestamp", where), f"{where}.timestamp",
                          milliseconds=True)
        return list(_messages(b.obj(message, f"{where}.message"), where=f"{where}.message",
                              sender_id=sender_id, sent_at=sent_at, channel=channel))
    if "postback" in item:
        sent_at = b.epoch(b.at(item, "timestamp", where), f"{where}.timestamp",
                          milliseconds=True)
        return [_postback(b.obj(item["postback"], f"{where}.postback"),
                          where=f"{where}.postback", sender_id=sender_id, sent_at=sent_at,
                          channel=channel)]
    if "delivery" in item:
        return _deliveries(b.obj(item["delivery"], f"{where}.delivery"),
                           where=f"{where}.delivery", sender_id=sender_id, channel=channel)
    return []  # read, reaction, optin, referral...: nothing to record


def _messages(message: b.JsonObject, *, where: str, sender_id: str, sent_at: datetime,
              channel: ChannelKeys) -> list[InboundMessage]:
    mid = b.ident(b.at(message, "mid", where), f"{where}.mid", max_length=480)
    parts: list[dict[str, Any]] = []
    text = b.opt_text(message, "text", where, max_length=8192)
    if text is not None:
        part: dict[str, Any] = {"type": "text", "text": text}
        quick_reply = message.get("quick_reply")
        if isinstance(quick_reply, dict) and quick_reply.get("payload") is not None:
            part["replyId"] = b.text(quick_reply["payload"], f"{where}.quick_reply.payload",
                                     max_length=1024)
        parts.append(part)
    for k, attachment in enumerate(b.opt_array(message, "attachments", where, limit=50)):
        parts.append(_attachment(b.obj(attachment, f"{where}.attachments[{k}]"),
                                 f"{where}.attachments[{k}]"))
    if not parts:
        parts.append({"type": "unsupported", "providerType": "message", "payload": message})
    reply_to = None
    replied = message.get("reply_to")
    if isinstance(replied, dict) and replied.get("mid") is not None:
        reply_to = b.ident(replied["mid"], f"{where}.reply_to.mid", max_length=512)
    return [InboundMessage(channel_id=channel.channel_id, source=channel.source,
                           sender_id=sender_id,
                           provider_message_id=mid if n == 0 else f"{mid}#{n}",
                           sent_at=sent_at, message=part, reply_to=reply_to)
            for n, part in enumerate(parts)]


def _attachment(attachment: b.JsonObject, where: str) -> dict[str, Any]:
    kind = b.ident(b.at(attachment, "type", where), f"{where}.type", max_length=64)
    payload = attachment.get("payload")
    if kind in _ATTACHMENTS and isinstance(payload, dict) and payload.get("url"):
        content: dict[str, Any] = {"type": kind,
                                   "url": b.text(payload["url"], f"{where}.payload.url",
                                                 max_length=4096)}
        if payload.get("sticker_id") is not None:
            content["stickerId"] = b.ident(payload["sticker_id"],
                                           f"{where}.payload.sticker_id", max_length=64)
        return {"type": "attachment", "attachment": content}
    if kind == "location" and isinstance(payload, dict):
        coordinates = b.obj(b.at(payload, "coordinates", f"{where}.payload"),
                            f"{where}.payload.coordinates")
        at = f"{where}.payload.coordinates"
        return {"type": "location",
                "latitude": b.number(b.at(coordinates, "lat", at), f"{at}.lat",
                                     low=-90, high=90),
                "longitude": b.number(b.at(coordinates, "long", at), f"{at}.long",
                                      low=-180, high=180)}
    return {"type": "unsupported", "providerType": kind, "payload": payload}


def _postback(postback: b.JsonObject, *, where: str, sender_id: str, sent_at: datetime,
              channel: ChannelKeys) -> InboundMessage:
    title = b.opt_text(postback, "title", where, max_length=1024)
    payload = b.opt_text(postback, "payload", where, max_length=1024)
    if title is None and payload is None:
        raise b.refuse(f"{where} has neither title nor payload")
    mid = postback.get("mid")
    message_id = (b.ident(mid, f"{where}.mid", max_length=480) if mid is not None
                  else f"postback:{sender_id}:{int(sent_at.timestamp() * 1000)}")
    content: dict[str, Any] = {"type": "text", "text": title or payload}
    if payload is not None:
        content["replyId"] = payload
    return InboundMessage(channel_id=channel.channel_id, source=channel.source,
                          sender_id=sender_id, provider_message_id=message_id, sent_at=sent_at,
                          message=content)


def _deliveries(delivery: b.JsonObject, *, where: str, sender_id: str,
                channel: ChannelKeys) -> list[InboundEvent]:
    mids = b.opt_array(delivery, "mids", where)
    if not mids:
        return []
    at = b.epoch(b.at(delivery, "watermark", where), f"{where}.watermark", milliseconds=True)
    return [DeliveryStatus(channel_id=channel.channel_id, source=channel.source,
                           sender_id=sender_id,
                           provider_message_id=b.ident(mid, f"{where}.mids[{k}]",
                                                       max_length=512),
                           status="delivered", at=at)
            for k, mid in enumerate(mids)]
