"""`contact.create_for_sender` on the real broker: the contacts service's model subscriber.

A channel (here: the test, producing raw records the way the channels service will) asks
for the contact of a new sender on `contacts.commands.v1`. Checked the way users see it: the
contacts through the public API, the events on `contacts.events.v1`, the dead letters on
`contacts.commands.v1.dlq`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from shared.contracts import ContactOrigin, CreateContactForSender, Envelope, envelope_for
from shared.kafka import dlq_topic
from shared.settings import Topics
from tests.e2e.contacts.conftest import Workspace, types
from tests.fixtures.stack import JointFixture
from tests.support.events import EventTap

COMMANDS = Topics().contacts_commands


def command(ws: Workspace, sender: str, **fields: Any) -> Envelope[Any]:
    """A `contact.create_for_sender` for sender `sender` of channel 7."""
    payload = CreateContactForSender(origin=ContactOrigin(channel_id=7, sender_id=sender), **fields)
    return envelope_for(payload, source="contacthub/channels", subject=f"sender/7/{sender}",
                        workspace_id=ws.id)


@pytest.fixture
async def producer(system: JointFixture) -> AsyncIterator[AIOKafkaProducer]:
    """A raw producer, as the channels service will be."""
    opened = AIOKafkaProducer(bootstrap_servers=system.kafka_bootstrap, acks="all",
                              enable_idempotence=False, linger_ms=5)
    await opened.start()
    try:
        yield opened
    finally:
        await opened.stop()


async def send(producer: AIOKafkaProducer, envelope: Envelope[Any] | bytes, key: str) -> None:
    """Publish one record on the commands topic (acknowledged)."""
    value = envelope if isinstance(envelope, bytes) else envelope.model_dump_json().encode()
    await producer.send_and_wait(COMMANDS, value=value, key=key.encode())


def sender_key(ws: Workspace, sender: str) -> str:
    """The command's key: the sender it is about."""
    return f"{ws.id}:sender:7:{sender}"


async def all_contacts(ws: Workspace) -> list[dict[str, Any]]:
    """Every contact of the workspace through the public API (following `next`)."""
    items: list[dict[str, Any]] = []
    url: str | None = "/v2/contact/list?limit=100"
    for _ in range(100):  # bounded
        if url is None:
            break
        answer = await ws.owner.post(url, json={"blocked": None})
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        url = answer.json()["pagination"]["next"]
    return items


async def test_a_sender_gets_one_contact_however_often_the_command_comes(
    ws: Workspace, tap: EventTap, producer: AIOKafkaProducer
) -> None:
    first = command(ws, "5511987654321", first_name="Ana", phone="5511987654321",
                    language="pt_BR", profile_pic="https://cdn.example/ana.jpg")
    again = command(ws, "5511987654321", first_name="Ana")  # another command, same sender
    # The same message delivered twice, a distinct command for the same sender, all at once.
    await asyncio.gather(
        send(producer, first, sender_key(ws, "5511987654321")),
        send(producer, first, sender_key(ws, "5511987654321")),
        send(producer, again, sender_key(ws, "5511987654321")),
    )
    events = await tap.wait_for(2, workspace_id=ws.id, settle_s=2.0)

    assert sorted(types(events)) == ["contact.created", "contact.sender_linked"], types(events)
    created = next(e for e in events if e.type == "contact.created")
    linked = next(e for e in events if e.type == "contact.sender_linked")
    assert created.data.origin == ContactOrigin(channel_id=7, sender_id="5511987654321")
    assert linked.data.contact_id == created.data.contact_id
    assert linked.data.origin == created.data.origin

    contacts = await all_contacts(ws)
    assert len(contacts) == 1
    contact = contacts[0]
    assert contact["id"] == created.data.contact_id
    assert contact["firstName"] == "Ana"
    assert contact["phone"] == "+5511987654321"
    assert contact["countryCode"] == "BR"
    assert contact["language"] == "pt-BR"


async def test_two_commands_racing_for_one_sender_on_two_partitions_make_one_contact(
    ws: Workspace, tap: EventTap, producer: AIOKafkaProducer
) -> None:
    # Keys that differ put them on different partitions: only the sender link can keep them
    # from making two contacts.
    one, two = command(ws, "ann@example.com", email="ann@example.com"), command(
        ws, "ann@example.com", email="Ann@Example.com"
    )
    await asyncio.gather(send(producer, one, f"{ws.id}:a"), send(producer, two, f"{ws.id}:b"))
    events = await tap.wait_for(2, workspace_id=ws.id, settle_s=2.0)

    assert sorted(types(events)) == ["contact.created", "contact.sender_linked"], types(events)
    assert len(await all_contacts(ws)) == 1


async def test_a_legacy_whatsapp_number_is_stored_as_delivered_with_its_canonical_form(
    ws: Workspace, tap: EventTap, producer: AIOKafkaProducer
) -> None:
    # Brazilian mobile without its ninth digit, as WhatsApp delivers some: never refused.
    await send(producer, command(ws, "551187654321", phone="551187654321"),
               sender_key(ws, "551187654321"))
    [created] = await tap.wait_for(1, workspace_id=ws.id)

    assert created.data.contact.phone == "+551187654321"
    assert created.data.contact.phone_canonical == "+5511987654321"
    found = await ws.owner.get("/v2/contact/phone:+5511987654321")
    assert found.status_code == 200, found.text
    assert found.json()["phone"] == "+551187654321"
    assert found.json()["id"] == created.data.contact_id


async def test_a_batch_with_one_poison_command_applies_the_others_once_and_dead_letters_it(
    system: JointFixture, ws: Workspace, tap: EventTap, producer: AIOKafkaProducer
) -> None:
    async with EventTap(system.kafka_bootstrap, dlq_topic(COMMANDS)) as dead:
        batch = [command(ws, f"+3361234{i:04d}", phone=f"+3361234{i:04d}") for i in range(200)]
        # An email no sender can have: the handler refuses it, the rest of its batch applies.
        batch[100] = command(ws, "poison", email="not an email")
        for envelope in batch:  # one key: one partition, so they arrive as batches
            producer_future = await producer.send(
                COMMANDS, value=envelope.model_dump_json().encode(), key=f"{ws.id}:p".encode()
            )
        await producer_future
        events = await tap.wait_for(199, workspace_id=ws.id, timeout_s=60.0, settle_s=1.0)
        letters = await dead.wait_for(1, workspace_id=ws.id, timeout_s=30.0)

    assert types(events) == ["contact.created"] * 199
    senders = [e.data.origin.sender_id for e in events]
    assert sorted(senders) == sorted(e.data.origin.sender_id for e in batch if e is not batch[100])
    assert len(set(e.data.contact_id for e in events)) == 199
    assert [e.id for e in letters] == [batch[100].id]
    headers = {k: v.decode() for k, v in dead.records[-1].headers}
    assert headers["x-error-kind"] == "processing"
    assert "not an email" in headers["x-error"]
    assert len(await all_contacts(ws)) == 199
