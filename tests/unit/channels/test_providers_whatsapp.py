"""WhatsApp Cloud API adapter: verification, signatures and every documented message type.

Payload shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
(fixtures in tests/fixtures/webhooks/whatsapp_*.json; their README cites each page).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.channels.providers import PROVIDERS, InboundEvent, RawWebhook, WebhookRefused
from shared.contracts.channels import DeliveryStatus, InboundMessage
from tests.unit.channels.webhook_requests import (
    channel,
    fixture,
    fixture_json,
    meta_signature,
    request,
)

SECRET = "test-app-secret-0123456789"
WHATSAPP = PROVIDERS["whatsapp"]
CHANNEL = channel("whatsapp_cloud", phoneNumberId="106540352242922",
                  displayPhoneNumber="+15550783881", appSecret=SECRET, verifyToken="verify-me")


def signed(body: bytes) -> RawWebhook:
    return request(body, headers={"X-Hub-Signature-256": meta_signature(SECRET, body)})


def parse(name_or_body: str | bytes | dict[str, object]) -> list[Any]:
    body = (fixture(name_or_body) if isinstance(name_or_body, str)
            else json.dumps(name_or_body).encode() if isinstance(name_or_body, dict)
            else name_or_body)
    raw = signed(body)
    WHATSAPP.verify(raw, CHANNEL)
    events: list[InboundEvent] = WHATSAPP.parse(raw, CHANNEL)
    return list(events)


def refused(body: bytes | dict[str, object]) -> WebhookRefused:
    with pytest.raises(WebhookRefused) as caught:
        parse(body)
    return caught.value


# ------------------------------------------------------------------ GET verification

def test_verification_answers_the_challenge_when_the_token_matches() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me",
             "hub.challenge": "1158201444"}
    assert WHATSAPP.challenge(request(b"", method="GET", query=query), CHANNEL) == "1158201444"


@pytest.mark.parametrize("query", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"},
    {"hub.verify_token": "verify-me", "hub.challenge": "1"},
    {"hub.mode": "subscribe", "hub.verify_token": "verify-me"},
    {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "a\nb"},
])
def test_verification_is_403_otherwise(query: dict[str, str]) -> None:
    with pytest.raises(WebhookRefused) as caught:
        WHATSAPP.challenge(request(b"", method="GET", query=query), CHANNEL)
    assert caught.value.status == 403


# ------------------------------------------------------------------ signatures

def test_the_signature_is_accepted_in_lower_or_upper_case_hex() -> None:
    body = fixture("whatsapp_text.json")
    digest = meta_signature(SECRET, body).removeprefix("sha256=")
    for value in (f"sha256={digest}", f"sha256={digest.upper()}"):
        WHATSAPP.verify(request(body, headers={"X-Hub-Signature-256": value}), CHANNEL)


@pytest.mark.parametrize("header", [
    None,                                                        # missing
    "",                                                          # empty
    "sha256=",                                                   # empty digest
    "sha256=" + "0" * 64,                                        # forged
    "sha1=" + "0" * 40,                                          # Meta's old SHA-1 header
    "SHA256={good}",                                             # wrong prefix case
    "sha512={good}",                                             # wrong algorithm prefix
    "{good}",                                                    # no prefix
    "sha256={good}00",                                           # too long
    "sha256={other_body}",                                       # signature of another body
    "sha256={other_secret}",                                     # another app's secret
])
def test_a_bad_signature_is_401(header: str | None) -> None:
    body = fixture("whatsapp_text.json")
    good = meta_signature(SECRET, body).removeprefix("sha256=")
    other_body = meta_signature(SECRET, body + b" ").removeprefix("sha256=")
    other_secret = meta_signature("another-secret", body).removeprefix("sha256=")
    headers = {} if header is None else {
        "X-Hub-Signature-256": header.format(good=good, other_body=other_body,
                                             other_secret=other_secret)}
    with pytest.raises(WebhookRefused) as caught:
        WHATSAPP.verify(request(body, headers=headers), CHANNEL)
    assert caught.value.status == 401


def test_a_channel_without_an_app_secret_accepts_nothing() -> None:
    body = fixture("whatsapp_text.json")
    bare = channel("whatsapp_cloud", phoneNumberId="106540352242922")
    with pytest.raises(WebhookRefused) as caught:
        WHATSAPP.verify(request(body, headers={"X-Hub-Signature-256": meta_signature("", body)}),
                        bare)
    assert caught.value.status == 401


# ------------------------------------------------------------------ messages

def test_the_documented_text_message() -> None:
    [message] = parse("whatsapp_text.json")
    assert isinstance(message, InboundMessage)
    assert message.channel_id == 7 and message.source == "whatsapp_cloud"
    assert message.sender_id == "+16505551234"
    assert message.provider_message_id == (
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")
    assert message.sent_at == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)
    assert message.message == {"type": "text", "text": "Does it come in another color?"}
    assert (message.profile.first_name, message.profile.last_name, message.profile.phone) == (
        "Sheena", "Nelson", "+16505551234")


def test_media_messages_become_attachments_carrying_what_whatsapp_gives() -> None:
    image, audio, video, document, sticker = parse("whatsapp_media_batch.json")
    assert [m.provider_message_id for m in (image, audio, video, document, sticker)] == [
        "wamid.IMAGE1", "wamid.AUDIO1", "wamid.VIDEO1", "wamid.DOC1", "wamid.STICKER1"]
    assert image.message == {"type": "attachment", "attachment": {
        "type": "image", "id": "1003383421387256", "mimeType": "image/jpeg",
        "caption": "Blue, please", "sha256": "BF9N+9aW7n5ZmIUT2xdv7aW7C0QD2Dv93aGo1RT4nZ4="}}
    assert audio.message["attachment"]["type"] == "audio"
    assert audio.message["attachment"]["voice"] is True
    assert video.message["attachment"]["type"] == "video"
    assert document.message["attachment"] == {
        "type": "file", "id": "1003383421387259", "mimeType": "application/pdf",
        "caption": "My invoice", "fileName": "invoice-42.pdf",
        "sha256": "kq1ZQk5YdKfXw2UqR2cH5Lq3cX5n3s0r8aG2qfN4e0w="}
    assert sticker.message["attachment"]["type"] == "image"
    assert sticker.message["attachment"]["sticker"] is True


def test_location_and_interactive_replies() -> None:
    location, button_reply, list_reply, button = parse("whatsapp_location_interactive.json")
    assert location.message == {"type": "location", "latitude": 37.483307,
                                "longitude": -122.148981, "name": "Main Campus",
                                "address": "1 Hacker Way, Menlo Park, CA 94025",
                                "url": "https://www.example.com"}
    assert button_reply.message == {"type": "text", "text": "Change", "replyId": "change-button"}
    assert button_reply.reply_to == "wamid.OUTBOUND_BUTTONS"
    assert list_reply.message == {"type": "text", "text": "Express Shipping",
                                  "replyId": "priority_express",
                                  "description": "Next Day to 2 Days"}
    assert button.message == {"type": "text", "text": "Stop promotions", "replyId": "STOP_PROMOS"}
    assert button.reply_to == "wamid.OUTBOUND_TEMPLATE"


def test_contacts_reactions_and_unknown_types_are_recorded_never_refused() -> None:
    contacts, reaction, unsupported, order = parse("whatsapp_contacts_reaction_unknown.json")
    assert contacts.message["type"] == "custom_payload"
    assert contacts.message["payload"]["contacts"][0]["phones"][0]["wa_id"] == "19405551234"
    assert reaction.message == {"type": "custom_payload", "payload": {
        "reaction": {"messageId": "wamid.OUTBOUND_TEXT", "emoji": "\N{GRINNING FACE}"}}}
    assert reaction.reply_to == "wamid.OUTBOUND_TEXT"
    assert unsupported.message == {"type": "unsupported", "providerType": "unsupported",
                                   "payload": {"type": "poll"}}
    assert order.message["type"] == "unsupported"
    assert order.message["providerType"] == "order"
    assert order.message["payload"]["catalog_id"] == "194836987003835"


def test_brazilian_and_mexican_numbers_are_kept_as_delivered_and_other_numbers_skipped() -> None:
    brazil, mexico = parse("whatsapp_brazil_mexico.json")  # the second entry is another number's
    assert (brazil.sender_id, brazil.profile.phone) == ("+551187654321", "+551187654321")
    assert (brazil.profile.first_name, brazil.profile.last_name) == ("João", "da Silva")
    assert (mexico.sender_id, mexico.profile.phone) == ("+5215512345678", "+5215512345678")


def test_a_business_scoped_user_id_identifies_a_sender_without_a_phone() -> None:
    body = fixture_json("whatsapp_text.json")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": "Sheena"}, "user_id": "US.13491208655302741918"}]
    del value["messages"][0]["from"]
    value["messages"][0]["from_user_id"] = "US.13491208655302741918"
    [message] = parse(body)
    assert message.sender_id == "US.13491208655302741918"
    assert message.profile.phone is None and message.profile.first_name == "Sheena"


# ------------------------------------------------------------------ statuses

def test_statuses_become_delivery_statuses() -> None:
    sent, delivered, read, failed = parse("whatsapp_statuses.json")  # "deleted" is skipped
    assert all(isinstance(s, DeliveryStatus) for s in (sent, delivered, read, failed))
    assert [(s.provider_message_id, s.status) for s in (sent, delivered, read, failed)] == [
        ("wamid.OUTBOUND1", "sent"), ("wamid.OUTBOUND1", "delivered"),
        ("wamid.OUTBOUND1", "read"), ("wamid.OUTBOUND2", "failed")]
    assert read.sender_id == "+16505551234"
    assert read.at == datetime.fromtimestamp(1750263780, UTC)
    assert failed.error is not None and failed.error.startswith("131049 This message")
    assert "the message failed to be delivered" in failed.error


def test_other_fields_and_empty_batches_give_nothing() -> None:
    body = fixture_json("whatsapp_text.json")
    body["entry"][0]["changes"][0]["field"] = "account_update"
    assert parse(body) == []
    assert parse({"object": "whatsapp_business_account", "entry": []}) == []


# ------------------------------------------------------------------ malformed bodies: 400

def _text_with(**message: object) -> dict[str, object]:
    body = fixture_json("whatsapp_text.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0].update(message)
    return body


@pytest.mark.parametrize("body", [
    b"not json",
    b"",
    b"[]",
    b'"whatsapp_business_account"',
    b"\xff\xfe{}",
    b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"object": "whatsapp_business_account", "entry": [], "n": ' + b"9" * 400 + b"}",
    b'{"object": "whatsapp_business_account", "entry": [], "n": 1e400}',
    b'{"object": "whatsapp_business_account", "entry": [], "n": NaN}',
    b'{"object": "whatsapp_business_account", "entry": [{"$where": 1}]}',
    b'{"object": "page", "entry": []}',
    b'{"entry": []}',
    b'{"object": "whatsapp_business_account"}',
    b'{"object": "whatsapp_business_account", "entry": {}}',
    b'{"object": "whatsapp_business_account", "entry": [[]]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {}}]}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": "x"}]}',
], ids=lambda b: b[:40].decode("utf-8", "replace"))
def test_bodies_that_are_not_the_format_are_400(body: bytes) -> None:
    assert refused(body).status == 400


@pytest.mark.parametrize("change", [
    {"id": None}, {"id": ""}, {"id": 1.5}, {"id": "wamid.\x00evil"}, {"id": "wamid\n"},
    {"from": "+16505551234"}, {"from": "1650555123x"}, {"from": "1" * 16}, {"from": 16505551234.0},
    {"timestamp": "yesterday"}, {"timestamp": "99999999999999999"}, {"timestamp": -1},
    {"timestamp": True}, {"timestamp": "0"},
    {"type": None}, {"text": "hi"}, {"text": {"body": 42}}, {"text": {"body": "a\x00b"}},
    {"text": {}},
    {"type": "image", "image": {"mime_type": "image/png"}},
    {"type": "location", "location": {"latitude": 91, "longitude": 0}},
    {"type": "location", "location": {"latitude": "north", "longitude": 0}},
    {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "x"}}},
    {"type": "reaction", "reaction": {"emoji": "x"}},
], ids=str)
def test_wrong_message_fields_are_400_naming_the_field(change: dict[str, object]) -> None:
    error = refused(_text_with(**change))
    assert error.status == 400
    assert "messages[0]" in error.message


def test_the_error_names_the_field_and_is_never_another_exception() -> None:
    error = refused(_text_with(id=["a"]))
    assert error.message == "entry[0].changes[0].value.messages[0].id must be a string id, not list"


def test_an_over_long_profile_name_is_cut_not_refused() -> None:
    body = fixture_json("whatsapp_text.json")
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = "A" * 300
    [message] = parse(body)
    assert message.profile.first_name == "A" * 255
