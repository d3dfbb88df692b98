"""respond.io custom channel adapter.

Shape: https://help.respond.io/l/en/channels/custom-channel ("Pass Messages to respond.io")
and https://github.com/respond-io/custom-channel-integration-example
(helpers/sendMessageWebhook.js); fixtures tests/fixtures/webhooks/custom_*.json.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.channels.providers import PROVIDERS, WebhookRefused, api_token_hash
from tests.unit.channels.webhook_requests import channel, fixture, fixture_json, request

TOKEN = "aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd"  # the documentation's sample token
CUSTOM = PROVIDERS["custom"]
PHONE_IDS = channel("custom_channel", idType="phone", apiTokenHash=api_token_hash(TOKEN))
CUSTOM_IDS = channel("custom_channel", idType="custom", apiTokenHash=api_token_hash(TOKEN))


def parse(body: bytes | dict[str, Any], keys: Any = PHONE_IDS) -> list[Any]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    raw = request(data, headers={"Authorization": f"Bearer {TOKEN}"})
    CUSTOM.verify(raw, keys)
    return list(CUSTOM.parse(raw, keys))


def test_the_documented_text_message_with_its_contact() -> None:
    [message] = parse(fixture("custom_text.json"))
    assert (message.source, message.sender_id, message.provider_message_id) == (
        "custom_channel", "+60177872890", "xcvzzxcxczxczxc")
    assert message.sent_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert message.message == {"type": "text", "text": "Hello World"}
    profile = message.profile
    assert (profile.first_name, profile.last_name, profile.country_code, profile.email,
            profile.phone, profile.language, profile.profile_pic) == (
        "John", "Doe", "MY", "john@respond.io", "+60177872890", "en",
        "https://static.example.com/pic.jpg")


def test_custom_ids_attachments_locations_and_skipped_echoes() -> None:
    attachment, location = parse(fixture("custom_attachment_location.json"), CUSTOM_IDS)
    assert attachment.sender_id == "user_42@shop"
    assert attachment.message == {"type": "attachment", "attachment": {
        "type": "image", "url": "https://cdn.example.com/a.png", "fileName": "a.png"}}
    assert location.message == {"type": "location", "latitude": 3.139, "longitude": 101.6869,
                                "address": "Kuala Lumpur"}
    assert attachment.profile.phone is None


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
    f"Bearer {TOKEN.upper()}", api_token_hash(TOKEN), f"Bearer {api_token_hash(TOKEN)}",
])
def test_anything_but_the_channel_token_is_401(authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with pytest.raises(WebhookRefused) as caught:
        CUSTOM.verify(request(fixture("custom_text.json"), headers=headers), PHONE_IDS)
    assert caught.value.status == 401


def test_the_bearer_scheme_is_case_insensitive() -> None:
    CUSTOM.verify(request(b"{}", headers={"Authorization": f"bearer {TOKEN}"}), PHONE_IDS)


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture_json("custom_text.json")
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


def _event(**changes: Any) -> dict[str, Any]:
    body = _body()
    for key, value in changes.items():
        if value is ...:
            body["events"][0].pop(key)
        else:
            body["events"][0][key] = value
    return body


@pytest.mark.parametrize("body", [
    b"", b"{}", b"[1]", b"null",
    _body(channelId=...), _body(channelId="8"), _body(channelId=""),
    _body(contactId=...), _body(contactId="60177872890"), _body(contactId="+6017787289\x00"),
    _body(contactId="+" + "1" * 16), _body(events=...), _body(events=[]), _body(events={}),
    _body(contact="John"), _body(contact={"phone": "0177872890"}),
    _body(contact={"countryCode": "MYS"}), _body(contact={"language": "english!"}),
    _body(contact={"email": "john at respond.io"}), _body(contact={"firstName": 7}),
    _event(type="click"), _event(mId=...), _event(mId=""), _event(timestamp="now"),
    _event(timestamp=2132131321), _event(message={"type": "text"}),
    _event(message={"type": "sticker", "sticker": {}}),
    _event(message={"type": "attachment", "attachment": {"type": "pdf", "url": "https://x"}}),
    _event(message={"type": "attachment", "attachment": {"type": "file", "url": "file:///etc"}}),
    _event(message={"type": "location", "latitude": 0}),
    _event(message={"type": "location", "latitude": 0, "longitude": 181}),
    _body(events=[{"type": "message", "mId": str(i), "timestamp": 1767225600000,
                   "message": {"type": "text", "text": "x"}} for i in range(101)]),
], ids=lambda b: str(b)[:60])
def test_malformed_bodies_are_400(body: bytes | dict[str, Any]) -> None:
    with pytest.raises(WebhookRefused) as caught:
        parse(body)
    assert caught.value.status == 400


def test_a_custom_id_outside_the_documented_alphabet_is_400() -> None:
    for contact_id in ("a b", "x" * 51, "name#1", "ü"):
        with pytest.raises(WebhookRefused):
            parse(_body(contactId=contact_id), CUSTOM_IDS)


def test_a_channel_id_given_at_connect_is_the_one_expected() -> None:
    keys = channel("custom_channel", idType="phone", apiTokenHash=api_token_hash(TOKEN),
                   channelId="gfd8g7fd89dgfd")
    [message] = parse(_body(channelId="gfd8g7fd89dgfd"), keys)
    assert message.provider_message_id == "xcvzzxcxczxczxc"


def test_no_get_verification() -> None:
    with pytest.raises(WebhookRefused) as caught:
        CUSTOM.challenge(request(b"", method="GET"), PHONE_IDS)
    assert caught.value.status == 405
