"""Dead letters on the real broker (DESIGN §3): a message that cannot be processed goes to
``<topic>.dlq`` with the error in its headers, and the consumer moves on.

Each test has its own topic (one partition, so "after" means after), its DLQ topic, a
fresh consumer group and its own database; messages are produced raw with aiokafka.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.consuming import register_consumer
from shared.contracts import ContactBlocked, Envelope, envelope_for
from shared.kafka import dlq_topic, make_broker
from shared.mongo import Document, make_mongo_client
from shared.outbox import Outbox
from shared.settings import KafkaSettings, MongoSettings
from shared.unit_of_work import PROCESSED, MongoUnitOfWork, Transaction
from tests.fixtures.stack import JointFixture

KEY = b"ws_dlq:1"
TIMEOUT_S = 40.0


def blocked(contact_id: int) -> Envelope[Any]:
    """A valid ``contact.blocked`` event."""
    return envelope_for(ContactBlocked(contact_id=contact_id, version=1), source="test",
                        subject=f"contact/{contact_id}", workspace_id="ws_dlq")


class Topic:
    """A fresh topic and its DLQ, a raw producer and a raw reader of the DLQ."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self.name = f"test.dlq.{uuid.uuid4().hex[:10]}"
        self.dlq = dlq_topic(self.name)
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> Topic:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(t, num_partitions=1, replication_factor=1)
                 for t in (self.name, self.dlq)]
            )
        finally:
            await admin.close()
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                          enable_idempotence=False)
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def send(self, value: bytes) -> int:
        """Produce one raw record (acknowledged); return its offset."""
        assert self._producer is not None
        meta = await self._producer.send_and_wait(self.name, value=value, key=KEY)
        return int(meta.offset)

    async def dead_letters(self, count: int) -> list[Any]:
        """The first ``count`` records of the DLQ (waits, bounded), and any extra that follow
        within a short settle time."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(self.dlq, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            records: list[Any] = []
            deadline = time.monotonic() + TIMEOUT_S
            while len(records) < count and time.monotonic() < deadline:
                records += (await consumer.getmany(tp, timeout_ms=200)).get(tp, [])
            settle = time.monotonic() + 0.5
            while time.monotonic() < settle:
                records += (await consumer.getmany(tp, timeout_ms=100)).get(tp, [])
            return records
        finally:
            await consumer.stop()


def headers(record: Any) -> dict[str, str]:
    """A raw record's headers, decoded."""
    return {k: v.decode() for k, v in record.headers}


async def eventually(check: Callable[[], Awaitable[bool]], *, what: str) -> None:
    """Wait (bounded) until ``check()`` is true."""
    deadline = time.monotonic() + TIMEOUT_S
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {TIMEOUT_S}s waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def db(servers: JointFixture) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh database for the consumer under test, dropped afterwards."""
    name = f"test_dlq_{uuid.uuid4().hex[:10]}"
    client: AsyncMongoClient[Document] = make_mongo_client(
        MongoSettings(mongo_url=servers.mongo_url, mongo_database=name), app_name="dlq-test"
    )
    yield client[name]
    await client.drop_database(name)
    await client.close()


async def consumer(
    servers: JointFixture,
    db: AsyncDatabase[Document],
    topic: Topic,
    handler: Callable[[Envelope[Any], Transaction], Awaitable[None]],
    *,
    attempts: int = 3,
) -> KafkaBroker:
    """A started consumer of ``topic`` built the way every service builds one."""
    settings = KafkaSettings(kafka_bootstrap_servers=servers.kafka_bootstrap,
                             kafka_session_timeout_ms=6000, kafka_heartbeat_interval_ms=1000)
    service = f"dlq-consumer-{uuid.uuid4().hex[:8]}"
    broker = make_broker(settings, client_id=service)
    uow = MongoUnitOfWork(db.client, db, Outbox(db), consumer=service)
    register_consumer(broker, service=service, settings=settings, uow=uow,
                      topic=topic.name, group_id=service, handler=handler, attempts=attempts)
    await broker.start()
    return broker


async def test_poison_messages_go_to_the_dlq_with_the_error_and_the_consumer_goes_on(
    servers: JointFixture, db: AsyncDatabase[Document]
) -> None:
    async def apply(envelope: Envelope[Any], tx: Transaction) -> None:
        await db.handled.insert_one({"_id": envelope.id, "type": envelope.type}, session=tx.session)

    good = blocked(7)
    unknown_type = {**json.loads(good.model_dump_json()), "id": "evt-unknown",
                    "type": "contact.teleported"}
    invalid_data = {**json.loads(good.model_dump_json()), "id": "evt-invalid",
                    "data": {"contact_id": "not-a-number", "version": 0}}
    no_id = json.loads(good.model_dump_json())
    del no_id["id"]  # would get a fresh id on each delivery, defeating deduplication
    poison = {
        "not JSON": b"\x00this is { not json",
        "no id": json.dumps(no_id).encode(),
        "unknown type": json.dumps(unknown_type).encode(),
        "invalid data": json.dumps(invalid_data).encode(),
    }
    async with Topic(servers.kafka_bootstrap) as topic:
        offsets = {name: await topic.send(value) for name, value in poison.items()}
        good_offset = await topic.send(good.model_dump_json().encode())
        broker = await consumer(servers, db, topic, apply)
        try:
            async def good_one_handled() -> bool:
                return await db.handled.find_one({"_id": good.id}) is not None

            await eventually(good_one_handled, what="the good message after the poison ones")
            letters = await topic.dead_letters(len(poison))
        finally:
            await broker.stop()

    assert good_offset > max(offsets.values()), "the good message came after the poison"
    assert await db.handled.count_documents({}) == 1
    assert await db[PROCESSED].count_documents({}) == 1

    assert [r.value for r in letters] == list(poison.values()), "each poison message, once"
    for (name, offset), record in zip(offsets.items(), letters, strict=True):
        h = headers(record)
        assert record.key == KEY, name
        assert h["x-error-kind"] == "invalid", name
        assert h["x-original-topic"] == topic.name, name
        assert h["x-original-partition"] == "0", name
        assert h["x-original-offset"] == str(offset), name
        assert h["x-consumer-group"], name
    errors = {name: headers(r)["x-error"] for name, r in zip(poison, letters, strict=True)}
    assert errors["not JSON"].startswith("ValidationError:"), errors
    assert "json" in errors["not JSON"].lower(), errors
    assert errors["no id"].startswith("ValidationError:") and "id" in errors["no id"], errors
    assert errors["unknown type"].startswith("UnknownMessageType:"), errors
    assert "contact.teleported" in errors["unknown type"], errors
    assert errors["invalid data"].startswith("ValidationError:"), errors
    assert "contact_id" in errors["invalid data"], errors


async def test_a_handler_that_keeps_failing_dead_letters_after_its_attempts_and_the_next_is_handled(
    servers: JointFixture, db: AsyncDatabase[Document]
) -> None:
    attempts: dict[str, int] = {}
    doomed, after = blocked(666), blocked(8)

    async def apply(envelope: Envelope[Any], tx: Transaction) -> None:
        attempts[envelope.id] = attempts.get(envelope.id, 0) + 1
        await db.handled.insert_one({"_id": envelope.id}, session=tx.session)
        if envelope.data.contact_id == 666:
            raise RuntimeError(f"cannot apply contact {envelope.data.contact_id}")

    async with Topic(servers.kafka_bootstrap) as topic:
        doomed_offset = await topic.send(doomed.model_dump_json().encode())
        await topic.send(after.model_dump_json().encode())
        broker = await consumer(servers, db, topic, apply, attempts=3)
        try:
            async def next_one_handled() -> bool:
                return await db.handled.find_one({"_id": after.id}) is not None

            await eventually(next_one_handled, what="the message after the failing one")
            letters = await topic.dead_letters(1)
        finally:
            await broker.stop()

    assert attempts == {doomed.id: 3, after.id: 1}
    assert [r.value for r in letters] == [doomed.model_dump_json().encode()]
    h = headers(letters[0])
    assert h["x-error-kind"] == "processing"
    assert h["x-error"] == "RuntimeError: cannot apply contact 666"
    assert h["x-original-topic"] == topic.name
    assert h["x-original-offset"] == str(doomed_offset)
    # Nothing of the failed attempts stuck: its writes and its processed record rolled back.
    assert await db.handled.find_one({"_id": doomed.id}) is None
    assert await db[PROCESSED].count_documents({}) == 1
