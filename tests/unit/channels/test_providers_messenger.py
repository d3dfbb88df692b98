"""Messenger Platform adapter (Facebook pages and Instagram accounts).

Payload shapes: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
and https://developers.facebook.com/docs/instagram-platform/webhooks/ (fixtures
tests/fixtures/webhooks/messenger_*.json and instagram_text.json).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.channels.providers import PROVIDERS, InboundEvent, WebhookRefused
from shared.contracts.channels import DeliveryStatus
from tests.unit.channels.webhook_requests import (
    channel,
    fixture,
    fixture_json,
    meta_signature,
    request,
)

SECRET = "test-page-app-secret"
MESSENGER = PROVIDERS["messenger"]
PAGE = channel("facebook", pageId="112233445566778", appSecret=SECRET, verifyToken="tok")
INSTAGRAM = channel("instagram", pageId="17841405822304914", appSecret=SECRET,
                    verifyToken="tok")


def parse(body: str | bytes | dict[str, Any], keys: Any = PAGE) -> list[Any]:
    data = fixture(body) if isinstance(body, str) else body
    raw = request(data)
    raw = request(raw.body, headers={"X-Hub-Signature-256": meta_signature(SECRET, raw.body)})
    MESSENGER.verify(raw, keys)
    events: list[InboundEvent] = MESSENGER.parse(raw, keys)
    return list(events)


def test_verification_and_signature_work_as_for_whatsapp() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "42"}
    assert MESSENGER.challenge(request(b"", method="GET", query=query), PAGE) == "42"
    with pytest.raises(WebhookRefused) as caught:
        MESSENGER.challenge(request(b"", method="GET", query={**query, "hub.verify_token": "x"}),
                            PAGE)
    assert caught.value.status == 403
    body = fixture("messenger_text.json")
    for header in ("", "sha256=" + "a" * 64, meta_signature("other", body),
                   meta_signature(SECRET, body).replace("sha256=", "sha1=")):
        with pytest.raises(WebhookRefused) as caught:
            MESSENGER.verify(request(body, headers={"X-Hub-Signature-256": header}), PAGE)
        assert caught.value.status == 401


def test_the_documented_text_message_with_a_quick_reply() -> None:
    [message] = parse("messenger_text.json")
    assert message.sender_id == "6954987654321098"
    assert message.source == "facebook"
    assert message.provider_message_id.startswith("m_AG5Hz2Uq7tuwNEhX")
    assert message.sent_at == datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=UTC)
    assert message.message == {"type": "text", "text": "hello, world!",
                               "replyId": "DEVELOPER_DEFINED_PAYLOAD"}


def test_each_attachment_is_a_message_and_postbacks_are_text() -> None:
    image, file, fallback, postback = parse("messenger_attachments.json")
    assert [m.provider_message_id for m in (image, file, fallback)] == [
        "m_ATTACHMENTS1", "m_ATTACHMENTS1#1", "m_ATTACHMENTS1#2"]
    assert image.message == {"type": "attachment", "attachment": {
        "type": "image", "url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg"}}
    assert file.message["attachment"]["type"] == "file"
    assert fallback.message["type"] == "unsupported"
    assert fallback.message["providerType"] == "fallback"
    assert image.reply_to == "m_OUTBOUND1"
    assert postback.provider_message_id == "m_POSTBACK1"
    assert postback.message == {"type": "text", "text": "Track my order",
                                "replyId": "TRACK_ORDER"}


def test_echoes_and_reads_are_ignored_deliveries_mapped_other_pages_skipped() -> None:
    events = parse("messenger_echo_delivery_read.json")
    assert all(isinstance(e, DeliveryStatus) for e in events)
    assert [(e.provider_message_id, e.status, e.sender_id) for e in events] == [
        ("m_OUTBOUND1", "delivered", "6954987654321098"),
        ("m_OUTBOUND2", "delivered", "6954987654321098")]


def test_instagram_channels_take_instagram_objects_only() -> None:
    [message] = parse("instagram_text.json", INSTAGRAM)
    assert (message.source, message.sender_id, message.message["text"]) == (
        "instagram", "1254459154682919", "Is this in stock?")
    with pytest.raises(WebhookRefused) as caught:
        parse("instagram_text.json", PAGE)
    assert caught.value.status == 400
    with pytest.raises(WebhookRefused):
        parse("messenger_text.json", INSTAGRAM)


def _with(**item: Any) -> dict[str, Any]:
    body = fixture_json("messenger_text.json")
    body["entry"][0]["messaging"][0].update(item)
    return body


@pytest.mark.parametrize("body", [
    b"{}", b"[]", b"nope", b'{"object": "page"}', b'{"object": "page", "entry": [{}]}',
    b'{"object": "user", "entry": []}',
    _with(sender={}), _with(sender={"id": "abc"}), _with(sender={"id": "1\x002"}),
    _with(sender={"id": 1.5}), _with(timestamp="later"), _with(timestamp=10 ** 30),
    _with(message={"text": "no mid"}), _with(message={"mid": "", "text": "x"}),
    _with(message={"mid": "m_1", "text": 5}), _with(message="text"),
    _with(message={"mid": "m_1", "attachments": [{"payload": {}}]}),
    _with(message={"mid": "m_1", "attachments": "x"}),
    _with(postback={"mid": "m_2"}, message=None),
], ids=lambda b: str(b)[:60])
def test_malformed_bodies_are_400(body: bytes | dict[str, Any]) -> None:
    if isinstance(body, dict) and body["entry"][0]["messaging"][0].get("message", 1) is None:
        del body["entry"][0]["messaging"][0]["message"]
    with pytest.raises(WebhookRefused) as caught:
        parse(body)
    assert caught.value.status == 400
