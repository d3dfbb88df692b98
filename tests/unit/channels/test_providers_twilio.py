"""Twilio SMS adapter: the documented signature example, incoming SMS/MMS, status callbacks.

Shapes: https://www.twilio.com/docs/messaging/guides/webhook-request,
https://www.twilio.com/docs/messaging/guides/track-outbound-message-status and the
signature scheme and worked example of https://www.twilio.com/docs/usage/security#validating-requests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from services.channels.providers import PROVIDERS, RawWebhook, TwilioSms, WebhookRefused
from services.channels.providers.twilio import twilio_signature
from shared.contracts.channels import DeliveryStatus, InboundMessage
from tests.unit.channels.webhook_requests import channel, fixture, request

TOKEN = "test-twilio-auth-token"
URL = "https://hooks.example.com/webhooks/sms/wk_abc123"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SMS = TwilioSms(clock=lambda: NOW)
CHANNEL = channel("twilio", phoneNumber="+15557654321", authToken=TOKEN)


def signed(body: bytes, *, url: str = URL, token: str = TOKEN) -> RawWebhook:
    signature = twilio_signature(token, url, parse_qsl(body.decode(), keep_blank_values=True))
    return request(body, url=url, headers={"X-Twilio-Signature": signature,
                                           "Content-Type": "application/x-www-form-urlencoded"})


def parse(body: bytes) -> list[Any]:
    raw = signed(body)
    SMS.verify(raw, CHANNEL)
    return list(SMS.parse(raw, CHANNEL))


def test_twilios_documented_signature_example() -> None:
    # The worked example of https://www.twilio.com/docs/usage/security#validating-requests:
    # auth token 12345, this URL and these parameters sign to 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    assert twilio_signature("12345", url, list(params.items())) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    keys = channel("twilio", phoneNumber="+18005551212", authToken="12345")
    body = urlencode(params).encode()
    SMS.verify(request(body, url=url,
                       headers={"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}), keys)
    # With the default port written out, as Twilio's helpers also accept.
    SMS.verify(request(body, url="https://mycompany.com:443/myapp.php?foo=1&bar=2",
                       headers={"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}), keys)


@pytest.mark.parametrize("tamper", [
    "missing", "empty", "other-token", "other-url", "other-body", "http-scheme", "lowercase",
    "hex", "no-padding", "query-dropped",
])
def test_a_bad_signature_is_401(tamper: str) -> None:
    body = fixture("twilio_sms.form")
    good = signed(body).headers["x-twilio-signature"]
    headers: dict[str, str] = {"X-Twilio-Signature": good}
    url = URL
    if tamper == "missing":
        headers = {}
    elif tamper == "empty":
        headers["X-Twilio-Signature"] = ""
    elif tamper == "other-token":
        headers["X-Twilio-Signature"] = signed(body, token="not-it").headers["x-twilio-signature"]
    elif tamper == "other-url":
        url = URL.replace("wk_abc123", "wk_other")
    elif tamper == "other-body":
        body = body.replace(b"Hello", b"Hellp")
    elif tamper == "http-scheme":
        url = URL.replace("https://", "http://")
    elif tamper == "lowercase":
        headers["X-Twilio-Signature"] = good.lower()
    elif tamper == "hex":
        import base64
        headers["X-Twilio-Signature"] = base64.b64decode(good).hex()
    elif tamper == "no-padding":
        headers["X-Twilio-Signature"] = good.rstrip("=")
    elif tamper == "query-dropped":
        headers["X-Twilio-Signature"] = signed(body, url=URL + "?x=1").headers[
            "x-twilio-signature"]
    with pytest.raises(WebhookRefused) as caught:
        SMS.verify(request(body, url=url, headers=headers), CHANNEL)
    assert caught.value.status == 401


def test_an_incoming_sms() -> None:
    [message] = parse(fixture("twilio_sms.form"))
    assert isinstance(message, InboundMessage)
    assert (message.source, message.sender_id, message.provider_message_id) == (
        "twilio", "+15551234567", "SM1f0e8ae6ade43cb3c0ce4525424e404f")
    assert message.message == {"type": "text", "text": "Hello from SMS!"}
    assert message.sent_at == NOW  # Twilio sends no time: the time of receipt
    assert (message.profile.phone, message.profile.country_code) == ("+15551234567", "US")


def test_an_mms_gives_its_text_then_each_media() -> None:
    text, image, pdf = parse(fixture("twilio_mms.form"))
    sid = "MM2f0e8ae6ade43cb3c0ce4525424e404f"
    assert [m.provider_message_id for m in (text, image, pdf)] == [sid, f"{sid}#1", f"{sid}#2"]
    assert image.message["attachment"]["type"] == "image"
    assert image.message["attachment"]["mimeType"] == "image/jpeg"
    assert image.message["attachment"]["url"].endswith("/Media/ME1")
    assert pdf.message["attachment"]["type"] == "file"
    assert text.sender_id == "+551187654321"  # a Brazilian number as delivered
    assert text.profile.country_code == "BR"


def test_status_callbacks() -> None:
    [delivered] = parse(fixture("twilio_status_delivered.form"))
    assert isinstance(delivered, DeliveryStatus)
    assert (delivered.provider_message_id, delivered.status, delivered.sender_id, delivered.at) == (
        "SM3f0e8ae6ade43cb3c0ce4525424e404f", "delivered", "+15551234567", NOW)
    [failed] = parse(fixture("twilio_status_undelivered.form"))
    assert failed.status == "failed"
    assert failed.error == "30003 Unreachable destination handset"


@pytest.mark.parametrize(("twilio", "ours"), [
    ("queued", None), ("accepted", None), ("scheduled", None), ("sending", None),
    ("sent", "sent"), ("delivered", "delivered"), ("read", "read"),
    ("undelivered", "failed"), ("failed", "failed"), ("canceled", "failed"),
    ("some_future_status", None),
])
def test_message_status_mapping(twilio: str, ours: str | None) -> None:
    body = fixture("twilio_status_delivered.form").replace(
        b"MessageStatus=delivered", b"MessageStatus=" + twilio.encode())
    events = parse(body)
    assert [e.status for e in events] == ([ours] if ours else [])


def _form(**changes: str | None) -> bytes:
    params = dict(parse_qsl(fixture("twilio_sms.form").decode(), keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return urlencode(params).encode()


@pytest.mark.parametrize("body", [
    _form(MessageSid=None), _form(MessageSid="SM1"), _form(MessageSid="SM\x00" + "a" * 32),
    _form(From=None), _form(From=""), _form(From="+1555\n1234567"), _form(To=None),
    _form(To="+15550000000"), _form(Body=""), _form(NumMedia="x"), _form(NumMedia="11"),
    _form(NumMedia="-1"), _form(NumMedia="1"), _form(NumMedia="1", MediaUrl0="ftp://x/y"),
    _form(Body="a\x00b"),
    b"MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f",
    b"\xff\xfe", b"a=1&&=2", b"%%%",
], ids=lambda b: b.decode("latin-1")[:50])
def test_malformed_forms_are_400(body: bytes) -> None:
    with pytest.raises(WebhookRefused) as caught:
        raw = request(body, url=URL, headers={"X-Twilio-Signature": "x"})
        SMS.parse(raw, CHANNEL)
    assert caught.value.status == 400


def test_a_status_callback_from_another_number_is_400() -> None:
    body = fixture("twilio_status_delivered.form").replace(b"From=%2B15557654321",
                                                           b"From=%2B15550000000")
    with pytest.raises(WebhookRefused) as caught:
        SMS.parse(request(body), CHANNEL)
    assert caught.value.status == 400


def test_no_get_verification() -> None:
    with pytest.raises(WebhookRefused) as caught:
        PROVIDERS["sms"].challenge(request(b"", method="GET"), CHANNEL)
    assert caught.value.status == 405
