"""Twilio SMS webhooks (source ``twilio``; ``/webhooks/sms/<key>``).

Formats: https://www.twilio.com/docs/messaging/guides/webhook-request (incoming message
parameters), https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
(status callbacks) and https://www.twilio.com/docs/usage/security#validating-requests
(signature). Connect fields: ``phoneNumber`` (E.164), ``authToken``.

- No GET verification: ``challenge`` → 405.
- ``X-Twilio-Signature`` = base64(HMAC-SHA1(authToken, <full URL> + every POST parameter's
  name and value, sorted by name)), compared in constant time; missing or wrong → 401. The URL
  must be the exact public URL Twilio called (scheme, host, port, path and query string as
  configured in Twilio): behind a proxy the intake must rebuild it from the public address,
  not from what the service sees. As Twilio's own helpers do, the URL is also tried with the
  scheme's default port added (or removed) before the request is refused.
- Body ``application/x-www-form-urlencoded``.
  - Incoming message (no ``MessageStatus``, or ``SmsStatus``/``MessageStatus`` ``received``):
    ``MessageSid``, ``From`` (the sender id, as delivered), ``To`` (must be the channel's
    ``phoneNumber``, else 400: the number is misrouted), ``Body``, ``NumMedia`` (0-10) and
    ``MediaUrl<i>`` / ``MediaContentType<i>``. ``Body`` → ``{type: text, text}`` (provider id
    ``MessageSid``); each media → ``{type: attachment, attachment: {type: image|video|audio|file
    (from the content type), url, mimeType}}`` (provider id ``<MessageSid>#<i+1>``, or
    ``MessageSid`` when there is no text). ``FromCountry`` (ISO alpha-2) → the profile's country.
    Twilio's webhook has no send time: ``sent_at`` is the time of receipt.
  - Status callback (``MessageStatus``): ``From`` must be the channel's number; the contact is
    ``To``. sent → sent, delivered → delivered, read → read, undelivered / failed / canceled →
    failed (with ``ErrorCode`` and ``ErrorMessage``); queued, accepted, scheduled, sending and
    statuses Twilio may add → nothing (the message stays ``pending``). Timestamp: receipt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from services.channels.providers import bodies as b
from services.channels.providers.base import ChannelKeys, InboundEvent, RawWebhook, WebhookRefused
from shared.contracts.channels import DeliveryStatus, InboundMessage, SenderProfile, Source

_STATUS = {"sent": "sent", "delivered": "delivered", "read": "read", "undelivered": "failed",
           "failed": "failed", "canceled": "failed"}
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[0-9]{5,15}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_MAX_MEDIA = 10
_DEFAULT_PORTS = {"https": 443, "http": 80}


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's ``X-Twilio-Signature`` of a POST to ``url`` with ``params``."""
    signed = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with the scheme's default port added or removed."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None or not parts.hostname:
        return [url]
    try:
        port = parts.port
    except ValueError:
        return [url]
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    bare = host.rsplit(":", 1)[0] if port is not None else host
    if port is None:
        other = f"{userinfo}{bare}:{default}"
    elif port == default:
        other = f"{userinfo}{bare}"
    else:
        return [url]
    return [url, urlunsplit(parts._replace(netloc=other))]


class TwilioSms:
    """Twilio Programmable Messaging (SMS) webhook adapter."""

    path = "sms"
    sources: tuple[Source, ...] = ("twilio",)

    def __init__(self, *, clock: b.Clock = b.utcnow) -> None:
        self._clock = clock

    def challenge(self, raw: RawWebhook, channel: ChannelKeys) -> str:
        """Twilio has no subscription check."""
        raise WebhookRefused(405, "Twilio webhooks are POSTs only")

    def verify(self, raw: RawWebhook, channel: ChannelKeys) -> None:
        """``X-Twilio-Signature`` must sign the URL and the sorted form parameters."""
        auth_token = b.field(channel, "authToken")
        header = raw.headers.get("x-twilio-signature")
        if not header:
            raise b.unauthorized("X-Twilio-Signature header is missing")
        params = b.load_form(raw.body)
        given = header.strip().encode("ascii", "replace")
        for url in _url_variants(raw.url):
            expected = twilio_signature(auth_token, url, params).encode("ascii")
            if hmac.compare_digest(expected, given):
                return
        raise b.unauthorized("X-Twilio-Signature does not match the URL and parameters")

    @b.refusing_invalid
    def parse(self, raw: RawWebhook, channel: ChannelKeys) -> list[InboundEvent]:
        """The incoming SMS (text and media) or the status of a message we sent."""
        params = _single_valued(b.load_form(raw.body))
        own_number = channel.fields.get("phoneNumber")
        sid = b.ident(_get(params, "MessageSid"), "MessageSid", max_length=64, pattern=_SID)
        status = params.get("MessageStatus")
        if status is not None and status != "received":
            return _status(params, status=status, sid=sid, channel=channel,
                           own_number=own_number, now=self._clock())
        sender = b.ident(_get(params, "From"), "From", max_length=64)
        to = b.ident(_get(params, "To"), "To", max_length=64)
        if own_number is not None and to != own_number:
            raise b.refuse(f"To {to} is not this channel's number")
        parts = _parts(params)
        if not parts:
            raise b.refuse("message has neither Body nor media")
        country = params.get("FromCountry")
        profile = SenderProfile(
            phone=sender if _E164.fullmatch(sender) else None,
            country_code=country if country and _COUNTRY.fullmatch(country) else None,
        )
        now = self._clock()
        return [InboundMessage(channel_id=channel.channel_id, source=channel.source,
                               sender_id=sender,
                               provider_message_id=sid if n == 0 else f"{sid}#{n}",
                               sent_at=now, message=part, profile=profile)
                for n, part in enumerate(parts)]


def _single_valued(pairs: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise b.refuse(f"form parameter {name} is given twice")
        params[name] = value
    return params


def _get(params: dict[str, str], name: str) -> str:
    if name not in params:
        raise b.refuse(f"form parameter {name} is missing")
    return params[name]


def _parts(params: dict[str, str]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    body = params.get("Body", "")
    if body:
        parts.append({"type": "text", "text": b.text(body, "Body", max_length=16384)})
    raw_count = params.get("NumMedia", "0") or "0"
    if not (raw_count.isascii() and raw_count.isdigit()) or int(raw_count) > _MAX_MEDIA:
        raise b.refuse(f"NumMedia must be an integer from 0 to {_MAX_MEDIA}")
    for i in range(int(raw_count)):
        url = b.text(_get(params, f"MediaUrl{i}"), f"MediaUrl{i}", max_length=2048)
        if not url.startswith(("https://", "http://")):
            raise b.refuse(f"MediaUrl{i} must be an http(s) URL")
        mime = params.get(f"MediaContentType{i}") or "application/octet-stream"
        b.ident(mime, f"MediaContentType{i}", max_length=255)
        family = mime.split("/", 1)[0]
        kind = family if family in ("image", "video", "audio") else "file"
        parts.append({"type": "attachment",
                      "attachment": {"type": kind, "url": url, "mimeType": mime}})
    return parts


def _status(params: dict[str, str], *, status: str, sid: str, channel: ChannelKeys,
            own_number: str | None, now: Any) -> list[InboundEvent]:
    value = _STATUS.get(status)
    if value is None:
        return []  # queued, accepted, scheduled, sending...: still pending
    sender = b.ident(_get(params, "From"), "From", max_length=64)
    if own_number is not None and sender != own_number:
        raise b.refuse(f"From {sender} is not this channel's number")
    contact = b.ident(_get(params, "To"), "To", max_length=64)
    error = None
    if value == "failed":
        code = params.get("ErrorCode") or ""
        message = params.get("ErrorMessage") or ""
        error = (" ".join(p for p in (code, message) if p) or status)[:1024]
        b.text(error, "ErrorMessage", max_length=1024)
    return [DeliveryStatus(channel_id=channel.channel_id, source=channel.source,
                           sender_id=contact, provider_message_id=sid,
                           status=value,  # type: ignore[arg-type]  # from _STATUS
                           at=now, error=error)]
