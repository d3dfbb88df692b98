"""Helpers of the channels end-to-end tests: connect bodies per source, signed webhooks, a tap
on ``channels.inbound.v1``.

Everything goes through the real gateway, as a user (bearer tokens) or as a provider would
(the channel's ``webhookUrl``, its signature computed from the test's own secret).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from shared.contracts.channels import DeliveryStatus, InboundMessage
from shared.contracts.envelope import RawEnvelope
from shared.settings import Topics
from tests.e2e.contacts.conftest import Workspace, other_ws  # noqa: F401 (a fixture)
from tests.fixtures.stack import JointFixture
from tests.support.events import EventTap

INBOUND_TOPIC = Topics().channels_inbound
APP_SECRET = "e2e-app-secret-0123456789abcdef"
VERIFY_TOKEN = "e2e-verify-token"
AUTH_TOKEN = "e2e-twilio-auth-token-0123456789"
SIGNING_SECRET = "e2e-signing-secret-0123456789"

#: A connect body of every source (the name is added per call).
CONNECT: dict[str, dict[str, Any]] = {
    "whatsapp_cloud": {"phoneNumberId": "106540352242922", "displayPhoneNumber": "+15550783881",
                       "appSecret": APP_SECRET, "verifyToken": VERIFY_TOKEN},
    "facebook": {"pageId": "112233445566778", "appSecret": APP_SECRET,
                 "verifyToken": VERIFY_TOKEN},
    "instagram": {"pageId": "17841400000000000", "appSecret": APP_SECRET,
                  "verifyToken": VERIFY_TOKEN},
    "twilio": {"phoneNumber": "+14155550100", "authToken": AUTH_TOKEN},
    "gmail": {"address": "support@example.com", "signingSecret": SIGNING_SECRET},
    "other_email": {"address": "help@example.org", "signingSecret": SIGNING_SECRET},
    "custom_channel": {"idType": "phone"},
    "telegram": {},
    "webchat": {},
}
SECRETS = (APP_SECRET, VERIFY_TOKEN, AUTH_TOKEN, SIGNING_SECRET)


async def connect(ws: Workspace, source: str, *, client: httpx.AsyncClient | None = None,
                  name: str | None = None) -> dict[str, Any]:
    """Connect a channel of ``source``; assert 201; its answer."""
    body = {"name": name or f"{source} {uuid.uuid4().hex[:6]}", "source": source,
            **CONNECT[source]}
    answer = await (client or ws.owner).post("/v2/space/channel", json=body)
    assert answer.status_code == 201, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


def webhook_path(channel: dict[str, Any]) -> str:
    """The path of a channel's webhook URL (the test calls the gateway it runs)."""
    url: str = channel["webhookUrl"]
    return urlsplit(url).path


def whatsapp_text(*, wa_id: str, text: str, message_id: str | None = None,
                  phone_number_id: str = "106540352242922") -> bytes:
    """A WhatsApp Cloud API webhook body with one text message, as Meta documents it."""
    body = {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881",
                                 "phone_number_id": phone_number_id},
                    "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": wa_id}],
                    "messages": [{
                        "from": wa_id, "id": message_id or f"wamid.{uuid.uuid4().hex}",
                        "timestamp": str(int(time.time())), "type": "text",
                        "text": {"body": text},
                    }],
                },
            }],
        }],
    }
    return json.dumps(body).encode()


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    """``X-Hub-Signature-256`` of a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class InboundTap(EventTap):
    """An ``EventTap`` on ``channels.inbound.v1``, its payloads bound to the channel models."""

    def keyed(self, *, workspace_id: str | None = None) -> list[tuple[str, Any]]:
        """(Kafka key, envelope with its typed payload) of every event (of the workspace)."""
        found = []
        for record in self.records:
            envelope = RawEnvelope.model_validate_json(record.value)
            if workspace_id is not None and envelope.workspaceid != workspace_id:
                continue
            model = InboundMessage if envelope.type == InboundMessage.TYPE else DeliveryStatus
            found.append((record.key.decode(), envelope.model_copy(
                update={"data": model.model_validate(envelope.data)})))
        return found

    def envelopes(self, *, workspace_id: str | None = None) -> list[Any]:
        """Every event so far (of the workspace), typed."""
        return [envelope for _, envelope in self.keyed(workspace_id=workspace_id)]


async def settle(tap: EventTap, seconds: float = 1.0) -> None:
    """Read what the topic has for a while (something that should not come would)."""
    await tap.wait_for(10**6, timeout_s=seconds, settle_s=0)


@pytest.fixture
async def ws(workspace: dict[str, Any], system: JointFixture) -> AsyncIterator[Workspace]:
    """The test's own workspace, with a client per role."""
    system.require("channels", "gateway")
    space = Workspace(system=system, id=workspace["workspace_id"], tokens=workspace["tokens"])
    try:
        yield space
    finally:
        await space.close()


@pytest.fixture
async def provider(system: JointFixture) -> AsyncIterator[httpx.AsyncClient]:
    """A client without any token: a provider calling webhook URLs."""
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30.0) as client:
        yield client


@pytest.fixture
async def inbound(system: JointFixture) -> AsyncIterator[InboundTap]:
    """Everything published on ``channels.inbound.v1`` from now on."""
    system.require("channels", "gateway")
    async with InboundTap(system.kafka_bootstrap, INBOUND_TOPIC) as opened:
        yield opened
