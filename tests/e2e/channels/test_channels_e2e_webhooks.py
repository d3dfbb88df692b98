"""Provider webhooks through the gateway (issue 8), as a provider sends them: WhatsApp's GET
verification; a signed POST reaches ``channels.inbound.v1`` keyed by workspace, channel and
sender before its 200; a bad signature (401), a malformed body (400), an unknown key or the
wrong provider path (404) publish nothing."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from shared.contracts.channels import InboundMessage
from tests.e2e.channels.conftest import (
    VERIFY_TOKEN,
    InboundTap,
    connect,
    meta_signature,
    settle,
    webhook_path,
    whatsapp_text,
)
from tests.e2e.contacts.conftest import Workspace, assert_error


async def test_whatsapp_get_verification(ws: Workspace, provider: httpx.AsyncClient) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    path = webhook_path(channel)
    right = await provider.get(path, params={"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                             "hub.verify_token": VERIFY_TOKEN})
    assert right.status_code == 200, right.text
    assert right.text == "1158201444"
    wrong = await provider.get(path, params={"hub.mode": "subscribe", "hub.challenge": "1",
                                             "hub.verify_token": "guess"})
    assert_error(wrong, 403)


async def test_a_signed_whatsapp_message_is_published_before_the_answer(
    ws: Workspace, provider: httpx.AsyncClient, inbound: InboundTap,
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    body = whatsapp_text(wa_id="16505551234", text="Hello!", message_id="wamid.e2e-1")
    answer = await provider.post(webhook_path(channel), content=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(body)})
    assert answer.status_code == 200, answer.text
    events = inbound.keyed(workspace_id=ws.id)
    if not events:  # acknowledged by the broker before the answer; the tap reads it now
        await inbound.wait_for(1, workspace_id=ws.id, settle_s=0.3)
        events = inbound.keyed(workspace_id=ws.id)
    assert len(events) == 1, events
    key, envelope = events[0]
    assert envelope.type == InboundMessage.TYPE and envelope.source == "contacthub/channels"
    message: Any = envelope.data
    assert key == f"{ws.id}:{channel['id']}:{message.sender_id}"
    assert message.channel_id == channel["id"] and message.source == "whatsapp_cloud"
    assert message.provider_message_id == "wamid.e2e-1"
    assert message.message["type"] == "text" and message.message["text"] == "Hello!"
    assert "16505551234" in message.sender_id


async def test_bad_signature_malformed_body_and_unknown_keys_publish_nothing(
    ws: Workspace, provider: httpx.AsyncClient, inbound: InboundTap,
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    path = webhook_path(channel)
    body = whatsapp_text(wa_id="16505551234", text="Hi")
    unsigned = await provider.post(path, content=body)
    assert_error(unsigned, 401)
    forged = await provider.post(path, content=body, headers={
        "X-Hub-Signature-256": meta_signature(body, "another-secret-entirely")})
    assert_error(forged, 401)
    malformed = b'{"object": "whatsapp_business_account", "entry": ['
    answer = await provider.post(path, content=malformed,
                                 headers={"X-Hub-Signature-256": meta_signature(malformed)})
    assert_error(answer, 400)
    wrong_shape = b'{"object": "page"}'
    answer = await provider.post(path, content=wrong_shape,
                                 headers={"X-Hub-Signature-256": meta_signature(wrong_shape)})
    assert_error(answer, 400)
    unknown = f"/webhooks/whatsapp/{secrets.token_urlsafe(32)}"
    signed = {"X-Hub-Signature-256": meta_signature(body)}
    assert_error(await provider.post(unknown, content=body, headers=signed), 404, "webhook")
    assert_error(await provider.post("/webhooks/whatsapp/short", content=body, headers=signed),
                 404)
    other_path = path.replace("/whatsapp/", "/sms/")
    assert_error(await provider.post(other_path, content=body, headers=signed), 404)
    assert (await provider.post(path.replace("/whatsapp/", "/fax/"), content=body,
                                headers=signed)).status_code in (404, 422)
    await settle(inbound)
    assert inbound.keyed(workspace_id=ws.id) == []


async def test_webhooks_take_no_bearer_and_other_methods_are_405(
    ws: Workspace, provider: httpx.AsyncClient,
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    answer = await provider.put(webhook_path(channel), content=b"{}")
    assert_error(answer, 405)
    assert "POST" in answer.headers["Allow"]
