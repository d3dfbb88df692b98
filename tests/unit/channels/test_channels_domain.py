"""The workspace channel's rules (issue 8): what connecting each source takes, what is stored,
what is shown. No I/O."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from services.channels.domain.channel import (
    API_TOKEN_PREFIX,
    ChannelSpec,
    new_api_token,
    new_channel,
    new_webhook_key,
    parse_connect,
    public_fields,
    webhook_url,
)
from services.channels.domain.errors import Forbidden, InvalidValue
from services.channels.domain.permissions import ensure_may_manage_channels
from shared.api.channels import SOURCES, WEBHOOK_KEY_PATTERN

NOW = datetime(2026, 1, 2, tzinfo=UTC)
WHATSAPP = {"name": " Support ", "source": "whatsapp_cloud", "phoneNumberId": "1065",
            "displayPhoneNumber": "15550783881", "appSecret": "s" * 32, "verifyToken": "v"}


def test_a_whatsapp_connect_keeps_its_fields_and_strips_the_name() -> None:
    spec = parse_connect(WHATSAPP)
    assert spec.name == "Support" and spec.source == "whatsapp_cloud"
    assert spec.fields == {"phoneNumberId": "1065", "displayPhoneNumber": "15550783881",
                           "appSecret": "s" * 32, "verifyToken": "v"}


@pytest.mark.parametrize(("body", "mention"), [
    ({**WHATSAPP, "extra": 1}, "extra: unknown field for source whatsapp_cloud"),
    ({k: v for k, v in WHATSAPP.items() if k != "appSecret"}, "appSecret: is required"),
    ({**WHATSAPP, "appSecret": "short"}, "appSecret: \"short\" must be 8-256"),
    ({**WHATSAPP, "source": "fax"}, "source: \"fax\" is not one of"),
    ({**WHATSAPP, "source": ["whatsapp_cloud"]}, "source:"),
    ({"name": "x", "source": "twilio", "phoneNumber": "+999123456789", "authToken": "t" * 8},
     "phoneNumber"),
    ({"name": "x", "source": "other_email", "address": "a@@b", "signingSecret": "s" * 8},
     "address"),
    ({"name": "line\nbreak", "source": "webchat"}, "name"),
    (None, "body"),
])
def test_refusals_name_the_field(body: Any, mention: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_connect(body)
    assert mention in refused.value.message
    assert refused.value.status == 422


def test_every_source_has_a_connect_model() -> None:
    for source in SOURCES:
        with pytest.raises(InvalidValue, match="is required|unknown"):
            parse_connect({"source": source})


def test_a_custom_channel_keeps_only_its_token_hash() -> None:
    spec = ChannelSpec(name="API", source="custom_channel", fields={"idType": "phone"})
    token = new_api_token()
    channel = new_channel(spec, workspace_id="ws", channel_id=3, created_at=NOW,
                          webhook_key="k" * 43, api_token=token)
    assert token.startswith(API_TOKEN_PREFIX)
    assert channel.fields == {"idType": "phone",
                              "apiTokenHash": hashlib.sha256(token.encode()).hexdigest()}
    assert token not in str(channel.model_dump())
    assert public_fields(channel) == {"idType": "phone"}
    with pytest.raises(ValueError):
        new_channel(spec, workspace_id="ws", channel_id=3, created_at=NOW, webhook_key="k")


def test_secrets_are_stored_as_given_and_never_public() -> None:
    channel = new_channel(parse_connect(WHATSAPP), workspace_id="ws", channel_id=1,
                          created_at=NOW, webhook_key="k" * 43)
    assert channel.fields["appSecret"] == "s" * 32
    assert public_fields(channel) == {"phoneNumberId": "1065",
                                      "displayPhoneNumber": "15550783881"}


def test_webhook_keys_are_random_url_safe_and_make_the_url() -> None:
    keys = {new_webhook_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(__import__("re").fullmatch(WEBHOOK_KEY_PATTERN, k) for k in keys)
    channel = new_channel(parse_connect({"name": "SMS", "source": "twilio",
                                         "phoneNumber": "+14155550100", "authToken": "t" * 32}),
                          workspace_id="ws", channel_id=2, created_at=NOW, webhook_key="K")
    assert webhook_url("https://api.example.com/", channel) == (
        "https://api.example.com/webhooks/sms/K")
    chat = new_channel(parse_connect({"name": "Chat", "source": "webchat"}), workspace_id="ws",
                       channel_id=3, created_at=NOW, webhook_key="K2")
    assert webhook_url("https://api.example.com", chat) is None


def test_only_owners_and_managers_manage_channels() -> None:
    ensure_may_manage_channels("owner", action="connect")
    ensure_may_manage_channels("manager", action="delete")
    with pytest.raises(Forbidden, match="agent"):
        ensure_may_manage_channels("agent", action="connect")
