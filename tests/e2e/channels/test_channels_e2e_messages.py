"""Inbound messages end to end (issue 8): signed WhatsApp webhooks posted to the gateway as
Meta sends them, read back through the public API — the sender's contact (made once, by
contacts, from the profile), its messages (stored once per provider message id), a deleted
contact's history purged.

Consumers join their groups in ~5 s on this broker: every wait is bounded polling on a
condition, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from pymongo import AsyncMongoClient

from shared.settings import Topics
from shared.topology import CHANNELS
from tests.e2e.channels.conftest import connect, meta_signature, webhook_path, whatsapp_text
from tests.e2e.contacts.conftest import Workspace, assert_error
from tests.fixtures.stack import JointFixture
from tests.support.events import EventTap

T = TypeVar("T")
WAIT_S = 60.0


async def eventually(probe: Callable[[], Awaitable[T | None]], *, what: str,
                     timeout_s: float = WAIT_S) -> T:
    """Poll ``probe`` (every 0.2 s, at most ``timeout_s``) until it returns something."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)


async def post_whatsapp(provider: httpx.AsyncClient, channel: dict[str, Any], body: bytes,
                        *, signature: str | None = None) -> httpx.Response:
    """POST a WhatsApp webhook body to the channel's URL, signed with the channel's secret."""
    return await provider.post(webhook_path(channel), content=body, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature or meta_signature(body)})


async def send_text(provider: httpx.AsyncClient, channel: dict[str, Any], *, wa_id: str,
                    text: str, message_id: str | None = None) -> str:
    """A signed WhatsApp text message from ``wa_id``; asserts 200; its provider id."""
    message_id = message_id or f"wamid.{uuid.uuid4().hex}"
    answer = await post_whatsapp(provider, channel, whatsapp_text(
        wa_id=wa_id, text=text, message_id=message_id))
    assert answer.status_code == 200, answer.text
    return message_id


async def messages_of(ws: Workspace, identifier: str) -> list[dict[str, Any]] | None:
    """Every message of the contact (following ``next``), or None while it does not exist."""
    items: list[dict[str, Any]] = []
    url: str | None = f"/v2/contact/{identifier}/message/list?limit=2"
    for _ in range(100):  # bounded
        if url is None:
            return items
        answer = await ws.agent.get(url)
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        url = answer.json()["pagination"]["next"]
    raise AssertionError("more pages than expected")


async def messages_once(ws: Workspace, identifier: str, count: int
                        ) -> list[dict[str, Any]]:
    """The contact's messages once there are ``count`` of them."""

    async def probe() -> list[dict[str, Any]] | None:
        found = await messages_of(ws, identifier)
        return found if found is not None and len(found) >= count else None

    return await eventually(probe, what=f"{count} message(s) of {identifier}")


async def all_contacts(ws: Workspace) -> list[dict[str, Any]]:
    """Every contact of the workspace."""
    answer = await ws.owner.post("/v2/contact/list?limit=100", json={})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


@pytest.fixture
async def provider(system: JointFixture) -> AsyncIterator[httpx.AsyncClient]:
    """A client without any token: a provider calling webhook URLs."""
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30.0) as client:
        yield client


@pytest.fixture
async def contact_events(system: JointFixture) -> AsyncIterator[EventTap]:
    """Everything published on ``contacts.events.v1`` from now on."""
    system.require("contacts", "channels", "gateway")
    async with EventTap(system.kafka_bootstrap, Topics().contacts_events) as tap:
        yield tap


async def test_a_new_whatsapp_sender_becomes_one_contact_with_its_message(
    ws: Workspace, provider: httpx.AsyncClient
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    wamid = await send_text(provider, channel, wa_id="16505551234", text="Hello!")

    [message] = await messages_once(ws, "phone:+16505551234", 1)
    contacts = await all_contacts(ws)
    assert len(contacts) == 1, contacts
    contact = contacts[0]
    assert (contact["firstName"], contact["lastName"]) == ("Sheena", "Nelson")
    assert contact["phone"] == "+16505551234" and contact["countryCode"] == "US"
    assert message["contactId"] == contact["id"] and message["channelId"] == channel["id"]
    assert message["channelMessageId"] == wamid and message["traffic"] == "incoming"
    assert message["message"] == {"type": "text", "text": "Hello!"}
    assert isinstance(message["messageId"], int)
    assert [s["value"] for s in message["status"]] == ["delivered"]
    one = await ws.agent.get(f"/v2/contact/id:{contact['id']}/message/{message['messageId']}")
    assert one.status_code == 200, one.text
    assert one.json() == message
    missing = await ws.agent.get(f"/v2/contact/id:{contact['id']}/message/999999")
    assert_error(missing, 404, "messageId")


async def test_a_provider_retry_of_one_message_id_stores_one_message_and_one_contact(
    ws: Workspace, provider: httpx.AsyncClient
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    body = whatsapp_text(wa_id="16505550001", text="once", message_id="wamid.retry-1")
    for _ in range(2):
        assert (await post_whatsapp(provider, channel, body)).status_code == 200
    # A later message from the same sender: once it is listed, both earlier posts were applied.
    await send_text(provider, channel, wa_id="16505550001", text="after")

    messages = await messages_once(ws, "phone:+16505550001", 2)
    assert [m["message"]["text"] for m in messages] == ["after", "once"]
    assert len(await all_contacts(ws)) == 1


async def test_two_first_messages_of_one_new_sender_at_once_make_one_contact(
    ws: Workspace, provider: httpx.AsyncClient
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    await asyncio.gather(
        send_text(provider, channel, wa_id="16505550002", text="one"),
        send_text(provider, channel, wa_id="16505550002", text="two"),
    )

    messages = await messages_once(ws, "phone:+16505550002", 2)
    assert sorted(m["message"]["text"] for m in messages) == ["one", "two"]
    assert messages[0]["messageId"] > messages[1]["messageId"]  # newest first
    assert len(await all_contacts(ws)) == 1


async def test_a_brazilian_sender_without_the_ninth_digit_is_accepted(
    ws: Workspace, provider: httpx.AsyncClient, contact_events: EventTap
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    await send_text(provider, channel, wa_id="551187654321", text="Olá")

    [message] = await messages_once(ws, "phone:+5511987654321", 1)  # found by canonical form
    contact = (await ws.owner.get(f"/v2/contact/id:{message['contactId']}")).json()
    assert contact["phone"] == "+551187654321" and contact["countryCode"] == "BR"
    events = await contact_events.wait_for(1, workspace_id=ws.id, settle_s=0)
    [created] = [e for e in events if e.type == "contact.created"]
    assert created.data.contact.phone == "+551187654321"
    assert created.data.contact.phone_canonical == "+5511987654321"


async def test_a_bad_signature_is_401_and_stores_nothing(
    ws: Workspace, provider: httpx.AsyncClient
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    forged = whatsapp_text(wa_id="16505550003", text="forged")
    answer = await post_whatsapp(provider, channel, forged,
                                 signature=meta_signature(forged, "not-the-app-secret"))
    assert_error(answer, 401)
    # The sender's next (signed) message: same key, same partition, so anything of the forged
    # one would have come first.
    await send_text(provider, channel, wa_id="16505550003", text="real")

    messages = await messages_once(ws, "phone:+16505550003", 1)
    assert [m["message"]["text"] for m in messages] == ["real"]


async def test_deleting_the_contact_purges_its_messages(
    system: JointFixture, ws: Workspace, provider: httpx.AsyncClient
) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    for text in ("first", "second"):
        await send_text(provider, channel, wa_id="16505550004", text=text)
    messages = await messages_once(ws, "phone:+16505550004", 2)
    contact_id = messages[0]["contactId"]

    deleted = await ws.manager.delete(f"/v2/contact/id:{contact_id}")
    assert deleted.status_code == 200, deleted.text

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongo_url)
    try:
        db = client[CHANNELS.database]

        async def purged() -> bool | None:
            left = await db["messages"].count_documents({"workspace_id": ws.id})
            links = await db["sender_links"].count_documents({"workspace_id": ws.id})
            return True if left == 0 and links == 0 else None

        await eventually(purged, what="the deleted contact's messages and links purged")
    finally:
        await client.close()
    # The sender writes again: a new contact, whose history starts afresh.
    await send_text(provider, channel, wa_id="16505550004", text="back")
    again = await messages_once(ws, "phone:+16505550004", 1)
    assert [m["message"]["text"] for m in again] == ["back"]
    assert again[0]["contactId"] != contact_id
