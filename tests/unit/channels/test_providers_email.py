"""Inbound email adapter: our signed JSON format (services/channels/providers/email.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.channels.providers import InboundEmail, RawWebhook, WebhookRefused
from services.channels.providers.email import email_signature
from tests.unit.channels.webhook_requests import channel, fixture, fixture_json, request

SECRET = "test-email-signing-secret"
NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
EMAIL = InboundEmail(clock=lambda: NOW)
INBOX = channel("other_email", address="support@acme.example", signingSecret=SECRET)


def signed(body: bytes, *, at: datetime = NOW, secret: str = SECRET) -> RawWebhook:
    stamp = str(int(at.timestamp()))
    return request(body, headers={"X-Contacthub-Timestamp": stamp,
                                  "X-Contacthub-Signature": email_signature(
                                      secret, timestamp=stamp, body=body)})


def parse(body: bytes | dict[str, Any]) -> list[Any]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    raw = signed(data)
    EMAIL.verify(raw, INBOX)
    return list(EMAIL.parse(raw, INBOX))


def test_an_email_reply() -> None:
    [message] = parse(fixture("email_reply.json"))
    assert (message.source, message.sender_id, message.provider_message_id) == (
        "other_email", "ann.lee@example.com", "<CAF=reply.42@mail.example.com>")
    assert message.message == {"type": "email", "subject": "Re: Order 42",
                               "text": "Thanks, it arrived.\n\nAnn",
                               "html": "<p>Thanks, it arrived.</p><p>Ann</p>"}
    assert message.reply_to == "<CAF=order.42@mail.acme.example>"
    assert message.sent_at == datetime(2026, 1, 1, 8, 30, tzinfo=UTC)
    assert (message.profile.first_name, message.profile.last_name, message.profile.email) == (
        "Ann", "Lee", "Ann.Lee@Example.com")


def test_a_signature_within_five_minutes_either_way_is_accepted() -> None:
    body = fixture("email_reply.json")
    for skew in (timedelta(minutes=-5), timedelta(0), timedelta(minutes=5)):
        EMAIL.verify(signed(body, at=NOW + skew), INBOX)


@pytest.mark.parametrize("case", [
    "no-timestamp", "no-signature", "replayed", "future", "timestamp-not-signed",
    "other-timestamp", "other-secret", "body-only", "uppercase-prefix", "sha1", "text-stamp",
])
def test_unauthenticated_or_replayed_requests_are_401(case: str) -> None:
    body = fixture("email_reply.json")
    raw = signed(body)
    headers = dict(raw.headers)
    if case == "no-timestamp":
        del headers["x-contacthub-timestamp"]
    elif case == "no-signature":
        del headers["x-contacthub-signature"]
    elif case == "replayed":  # a captured request posted again 6 minutes later
        headers = dict(signed(body, at=NOW - timedelta(minutes=6)).headers)
    elif case == "future":
        headers = dict(signed(body, at=NOW + timedelta(minutes=6)).headers)
    elif case == "timestamp-not-signed":
        headers["x-contacthub-timestamp"] = str(int(NOW.timestamp()) + 1)
    elif case == "other-timestamp":
        old = signed(body, at=NOW - timedelta(hours=1)).headers
        headers["x-contacthub-signature"] = old["x-contacthub-signature"]
    elif case == "other-secret":
        headers = dict(signed(body, secret="other").headers)
    elif case == "body-only":
        from services.channels.providers.bodies import hmac_sha256_hex
        headers["x-contacthub-signature"] = "sha256=" + hmac_sha256_hex(SECRET, body)
    elif case == "uppercase-prefix":
        headers["x-contacthub-signature"] = headers["x-contacthub-signature"].replace(
            "sha256=", "SHA256=")
    elif case == "sha1":
        headers["x-contacthub-signature"] = "sha1=" + "0" * 40
    elif case == "text-stamp":
        headers["x-contacthub-timestamp"] = "2026-01-01T09:00:00Z"
    with pytest.raises(WebhookRefused) as caught:
        EMAIL.verify(request(body, headers=headers), INBOX)
    assert caught.value.status == 401


def _email(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture_json("email_reply.json")
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize("body", [
    b"", b"[]", b"{", b"\xff",
    _email(messageId=...), _email(messageId=""), _email(messageId="<a\r\nBcc: x@y>"),
    _email(**{"from": ...}), _email(**{"from": "ann@example.com"}),
    _email(**{"from": {"address": "not an address"}}), _email(**{"from": {"name": "Ann"}}),
    _email(to=...), _email(to=[]), _email(to="support@acme.example"), _email(to=["x"]),
    _email(subject=...), _email(subject=None), _email(text=...), _email(text=["a"]),
    _email(date=...), _email(date="yesterday"), _email(date="2026-01-01T09:00:00"),
    _email(date=1767258000), _email(date="1900-01-01T00:00:00Z"),
    _email(inReplyTo=42.5), _email(cc=["x@y.z"]), _email(html=7),
], ids=lambda b: str(b)[:60])
def test_malformed_emails_are_400(body: bytes | dict[str, Any]) -> None:
    with pytest.raises(WebhookRefused) as caught:
        parse(body)
    assert caught.value.status == 400


def test_minimal_email_without_name_html_or_reply() -> None:
    [message] = parse(_email(html=..., inReplyTo=..., subject="", text="",
                             **{"from": {"address": "bob@example.com"}}))
    assert message.message == {"type": "email", "subject": "", "text": ""}
    assert message.reply_to is None and message.profile.first_name is None


def test_no_get_verification() -> None:
    with pytest.raises(WebhookRefused) as caught:
        EMAIL.challenge(request(b"", method="GET"), INBOX)
    assert caught.value.status == 405
