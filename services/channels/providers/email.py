"""Inbound email webhooks (sources ``gmail`` and ``other_email``; ``/webhooks/email/<key>``).

There is no one provider format for inbound mail, so this is a JSON shape of ours, which a
mail relay (a Gmail push consumer, an SES/Mailgun/Postmark inbound hook, a script) posts::

    POST /webhooks/email/<webhook key>
    Content-Type: application/json
    X-Contacthub-Timestamp: 1767225600
    X-Contacthub-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with signingSecret>

    {"messageId": "<CAF=abc@mail.example.com>",          # required, the Message-ID header
     "from": {"address": "ann@example.com", "name": "Ann Lee"},   # name optional
     "to": ["support@acme.example"],                     # 1-100 addresses
     "subject": "Order 42",                              # may be ""
     "text": "Hello...",                                 # the plain-text part, may be ""
     "html": "<p>Hello...</p>",                          # optional
     "inReplyTo": "<CAF=xyz@mail.acme.example>",         # optional, the In-Reply-To header
     "date": "2026-01-01T00:00:00Z"}                     # RFC 3339 with a zone offset

Connect fields: ``address`` (the inbox), ``signingSecret``.

- Authentication: both headers are required (401 otherwise). The timestamp is epoch seconds
  and is part of the signed string, so a captured request cannot be replayed once it is more
  than 5 minutes old (or claims to be more than 5 minutes in the future): 401. Within those
  5 minutes a replay is harmless — the intake deduplicates by ``messageId``.
- Unknown top-level keys are refused (400), so a typo in a relay is seen at once. ``to`` need
  not contain the channel's address (Bcc and aliases deliver mail that does not name it).
- The sender id is the ``from`` address lower-cased (addresses match case-insensitively);
  the profile keeps it as given and splits ``name`` into first and last name. The message is
  respond.io's email message ``{type: "email", subject, text, html?}``; ``inReplyTo`` →
  ``reply_to``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from services.channels.providers import bodies as b
from services.channels.providers.base import ChannelKeys, InboundEvent, RawWebhook, WebhookRefused
from shared.contracts.channels import InboundMessage, SenderProfile, Source

#: How old (or how far in the future) a signed timestamp may be.
REPLAY_WINDOW = timedelta(minutes=5)
_KEYS = {"messageId", "from", "to", "subject", "text", "html", "inReplyTo", "date"}
_ADDRESS = re.compile(r"[^@\s\x00-\x1f\x7f<>()\[\],;:\"]{1,64}@[^@\s\x00-\x1f\x7f<>()\[\],;:\"]"
                      r"{1,255}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def email_signature(secret: str, *, timestamp: str, body: bytes) -> str:
    """The ``X-Contacthub-Signature`` value a relay sends for ``body`` at ``timestamp``."""
    return "sha256=" + b.hmac_sha256_hex(secret, timestamp.encode("ascii") + b"." + body)


class InboundEmail:
    """Our signed JSON format for inbound mail."""

    path = "email"
    sources: tuple[Source, ...] = ("gmail", "other_email")

    def __init__(self, *, clock: b.Clock = b.utcnow) -> None:
        self._clock = clock

    def challenge(self, raw: RawWebhook, channel: ChannelKeys) -> str:
        """No subscription check for email."""
        raise WebhookRefused(405, "email webhooks are POSTs only")

    def verify(self, raw: RawWebhook, channel: ChannelKeys) -> None:
        """Signature over ``<timestamp>.<body>`` and a timestamp within 5 minutes."""
        secret = b.field(channel, "signingSecret")
        stamp = raw.headers.get("x-contacthub-timestamp", "").strip()
        if not _TIMESTAMP.fullmatch(stamp):
            raise b.unauthorized("X-Contacthub-Timestamp must be epoch seconds")
        b.check_sha256_header(raw.headers, name="x-contacthub-signature", secret=secret,
                              payload=stamp.encode("ascii") + b"." + raw.body)
        signed_at = datetime.fromtimestamp(int(stamp), UTC)
        if abs(self._clock() - signed_at) > REPLAY_WINDOW:
            raise b.unauthorized("X-Contacthub-Timestamp is more than 5 minutes away from now "
                                 "(a replay, or a relay clock that is off)")

    @b.refusing_invalid
    def parse(self, raw: RawWebhook, channel: ChannelKeys) -> list[InboundEvent]:
        """The one email the request carries."""
        body = b.load_json(raw.body)
        unknown = sorted(set(body) - _KEYS)
        if unknown:
            raise b.refuse(f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(_KEYS))})")
        message_id = b.ident(b.at(body, "messageId", "body"), "messageId", max_length=512)
        sender = b.obj(b.at(body, "from", "body"), "from")
        address = _address(b.at(sender, "address", "from"), "from.address")
        first, last = b.split_name(b.opt_text(sender, "name", "from", max_length=512))
        recipients = b.array(b.at(body, "to", "body"), "to", limit=100)
        if not recipients:
            raise b.refuse("to must name at least one address")
        for k, recipient in enumerate(recipients):
            _address(recipient, f"to[{k}]")
        content: dict[str, Any] = {
            "type": "email",
            "subject": b.text(b.at(body, "subject", "body"), "subject", max_length=998,
                              allow_empty=True),
            "text": b.text(b.at(body, "text", "body"), "text", max_length=256 * 1024,
                           allow_empty=True),
        }
        html = b.opt_text(body, "html", "body", max_length=512 * 1024)
        if html is not None:
            content["html"] = html
        reply_to = body.get("inReplyTo")
        return [InboundMessage(
            channel_id=channel.channel_id, source=channel.source, sender_id=address.lower(),
            provider_message_id=message_id, sent_at=_date(b.at(body, "date", "body")),
            message=content,
            profile=SenderProfile(first_name=first, last_name=last, email=address),
            reply_to=None if reply_to in (None, "") else b.ident(reply_to, "inReplyTo",
                                                                max_length=512),
        )]


def _address(value: Any, where: str) -> str:
    address = b.ident(value, where, max_length=320)
    if not _ADDRESS.fullmatch(address):
        raise b.refuse(f"{where} {address!r} is not an email address")
    return address


def _date(value: Any) -> datetime:
    text = b.text(value, "date", max_length=64)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise b.refuse(f"date {text!r} is not an RFC 3339 date-time") from exc
    if moment.tzinfo is None:
        raise b.refuse(f"date {text!r} has no zone offset")
    moment = moment.astimezone(UTC)
    if not b.EARLIEST <= moment < b.LATEST:
        raise b.refuse(f"date {text!r} is not a plausible time")
    return moment
