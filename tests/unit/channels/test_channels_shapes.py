"""The channel shapes the gateway documents (``shared/api/channels.py``) are the ones the
channels service answers and reads; forwarded webhooks become the adapters' RawWebhook."""

from __future__ import annotations

from datetime import UTC, datetime

from services.channels.api_shapes import connected_to_api, to_api, webhook_command
from services.channels.domain.channel import new_channel, parse_connect
from services.channels.handlers.commands import Connected
from shared.api import channels as api_channels
from shared.contracts.channels import Source

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def _channel(source: str = "webchat") -> object:
    body = {"name": "Chat", "source": source}
    if source == "custom_channel":
        body["idType"] = "custom"
    return new_channel(parse_connect(body), workspace_id="ws", channel_id=7, created_at=NOW,
                       webhook_key="k" * 43, api_token="cch_x" if source == "custom_channel"
                       else None)


def test_a_channel_as_answered_has_exactly_the_documented_fields() -> None:
    shown = to_api(_channel(), public_url="http://gw")  # type: ignore[arg-type]
    assert shown == {"id": 7, "name": "Chat", "source": "webchat",
                     "created_at": int(NOW.timestamp()), "webhookUrl": None}
    assert set(shown) == set(api_channels.Channel.model_fields)
    api_channels.Channel.model_validate(shown)


def test_the_connect_answer_carries_the_custom_token_once() -> None:
    channel = _channel("custom_channel")
    shown = connected_to_api(Connected(channel=channel, api_token="cch_x"),  # type: ignore[arg-type]
                             public_url="http://gw")
    assert shown["apiToken"] == "cch_x"
    assert shown["webhookUrl"] == "http://gw/webhooks/custom/" + "k" * 43
    api_channels.ChannelCreated.model_validate(shown)
    assert "apiToken" not in to_api(channel, public_url="http://gw")  # type: ignore[arg-type]


def test_the_documented_sources_are_the_contracts_and_each_has_a_model() -> None:
    assert set(api_channels.SOURCES) == set(Source.__args__)  # type: ignore[attr-defined]
    assert set(api_channels.INPUT_OF_SOURCE) == set(api_channels.SOURCES)
    assert set(api_channels.WEBHOOK_PATH_OF_SOURCE.values()) == set(api_channels.WEBHOOK_PATHS)


def test_a_forwarded_webhook_keeps_only_the_provider_headers() -> None:
    command = webhook_command(
        path="sms", key="k", method="post", url="https://gw/webhooks/sms/k?x=1",
        headers={"x-internal-token": "t", "x-provider-x-twilio-signature": "sig",
                 "x-provider-content-type": "application/x-www-form-urlencoded",
                 "x-webhook-url": "https://gw/webhooks/sms/k?x=1"},
        query="x=1&hub.challenge=&a=%2B1", body=b"From=%2B1",
    )
    raw = command.raw
    assert raw.method == "POST" and raw.body == b"From=%2B1"
    assert raw.headers == {"x-twilio-signature": "sig",
                           "content-type": "application/x-www-form-urlencoded"}
    assert raw.query == {"x": "1", "hub.challenge": "", "a": "+1"}
    assert raw.url == "https://gw/webhooks/sms/k?x=1"
