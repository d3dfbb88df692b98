"""The transactional outbox on the real broker and database (DESIGN §3: no lost events).

- A relay killed between "the broker acknowledged the batch" and "the relay
  recorded its position" re-sends it after restart: the topic holds duplicates, yet a
  consumer built with ``register_consumer`` applies every event id exactly once.
- Events of one key, written by concurrent transactions, arrive in version order.
- A transaction that fails after ``Outbox.add`` leaves neither state nor event.

Every test uses its own topic, consumer group and databases (uuid names).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY as METRICS
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.consuming import register_consumer
from shared.contracts import ContactTagsChanged, Envelope, envelope_for
from shared.contracts.envelope import utcnow
from shared.kafka import make_broker
from shared.mongo import Document, in_transaction, make_mongo_client
from shared.outbox import LEASES, OUTBOX, Outbox, OutboxRelay, message_key, pending_count
from shared.settings import KafkaSettings, MongoSettings
from shared.unit_of_work import PROCESSED, MongoUnitOfWork, Transaction
from tests.fixtures.stack import JointFixture

SOURCE = "contacthub/outbox-test"
CONSUMER_TIMEOUT_S = 40.0


# ----------------------------------------------------------------- helpers


def uid() -> str:
    """A short unique suffix for topic, group and database names."""
    return uuid.uuid4().hex[:10]


async def create_topic(bootstrap: str, name: str, *, partitions: int = 3) -> None:
    """Create a fresh topic with aiokafka's admin client."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


async def read_topic(bootstrap: str, topic: str, *, at_least: int, settle_s: float = 1.0
                     ) -> list[Any]:
    """Every record of ``topic`` from the beginning (raw, no group): waits (bounded) for
    ``at_least`` records, then reads ``settle_s`` longer so extra records would show too.

    (Tansu answers ListOffsets(latest) with the base offset of the last record batch + 1,
    not the high watermark, so "read up to ``end_offsets``" stops short on this broker.)
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        deadline = time.monotonic() + 20
        while len(records) < at_least and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        settle_until = time.monotonic() + settle_s
        while time.monotonic() < settle_until:
            for batch in (await consumer.getmany(timeout_ms=100)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer.topics()
    found: set[int] = consumer.partitions_for_topic(topic) or set()
    assert found, f"topic {topic} does not exist"
    return found


def header(record: Any, name: str) -> str:
    """One header of a raw record, decoded."""
    return dict(record.headers)[name].decode()


def handled(service: str, topic: str, type_: str, outcome: str) -> float:
    """``contacthub_messages_handled_total`` of one consumer, as Prometheus would scrape it."""
    value = METRICS.get_sample_value(
        "contacthub_messages_handled_total",
        {"service": service, "topic": topic, "type": type_, "outcome": outcome},
    )
    return value or 0.0


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float, what: str, every_s: float = 0.1
) -> None:
    """Wait (bounded) until ``check()`` is true."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(every_s)


def tags_changed(workspace_id: str, contact_id: int, version: int) -> Envelope[Any]:
    """A small, valid contact event of ``contact_id`` at ``version``."""
    tag = f"t{version}"
    return envelope_for(
        ContactTagsChanged(contact_id=contact_id, version=version, added=(tag,), tags=(tag,)),
        source=SOURCE, subject=f"contact/{contact_id}", workspace_id=workspace_id,
    )


def kafka_settings(servers: JointFixture) -> KafkaSettings:
    """Consumer settings with short sessions, like the services get in tests."""
    return KafkaSettings(
        kafka_bootstrap_servers=servers.kafka_bootstrap,
        kafka_session_timeout_ms=6000,
        kafka_heartbeat_interval_ms=1000,
    )


@pytest.fixture
def run() -> str:
    """This test's unique suffix of topic, group and database names."""
    return uid()


@pytest.fixture
async def mongo(servers: JointFixture, run: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    """A client of the test database server; drops the databases of this test afterwards."""
    client = make_mongo_client(
        MongoSettings(mongo_url=servers.mongo_url, mongo_database="unused"), app_name="outbox-test"
    )
    yield client
    for name in await client.list_database_names():
        if name.startswith("test_outbox_") and name.endswith(run):
            await client.drop_database(name)
    await client.close()


async def start_consumer(
    servers: JointFixture,
    mongo: AsyncMongoClient[Document],
    *,
    service: str,
    topic: str,
    db_name: str,
    handler: Callable[[Envelope[Any], Transaction], Awaitable[None]],
) -> KafkaBroker:
    """A real consumer: its own FastStream broker, a fresh group, ``register_consumer``."""
    settings = kafka_settings(servers)
    broker = make_broker(settings, client_id=service)
    register_consumer(
        broker, service=service, settings=settings, topic=topic, group_id=f"{service}-group",
        uow=MongoUnitOfWork(mongo, mongo[db_name], Outbox(mongo[db_name]),
                            consumer=f"{service}-group"),
        handler=handler,
    )
    await broker.start()
    return broker


# ----------------------------------------------------------------- (a) killed relay


async def test_relay_killed_between_publish_and_mark_resends_and_consumer_applies_once(
    servers: JointFixture, mongo: AsyncMongoClient[Document], run: str, tmp_path: Path
) -> None:
    topic, service = f"test.outbox.{run}", f"outbox-consumer-{run}"
    producer_db, consumer_db = mongo[f"test_outbox_p_{run}"], mongo[f"test_outbox_c_{run}"]
    workspace = f"ws_{run}"
    await create_topic(servers.kafka_bootstrap, topic)

    # The producing side: 12 state changes of 3 contacts, each with its event, one transaction
    # each — what a service's use case does.
    outbox = Outbox(producer_db)
    written: list[str] = []
    for contact_id, version in itertools.product((1, 2, 3), (1, 2, 3, 4)):
        envelope = tags_changed(workspace, contact_id, version)

        async def change(session: AsyncClientSession, envelope: Envelope[Any] = envelope,
                         contact_id: int = contact_id) -> None:
            await producer_db.contacts.update_one(
                {"_id": contact_id}, {"$set": {"version": envelope.data.version}},
                upsert=True, session=session,
            )
            await outbox.add(session, topic=topic, key=message_key(workspace, contact_id),
                             envelope=envelope)

        await in_transaction(mongo, change)
        written.append(envelope.id)
    assert await pending_count(producer_db) == len(written)

    # The consuming side: applies each event by writing one document of its own.
    async def apply(envelope: Envelope[Any], tx: Transaction) -> None:
        await consumer_db.applied.insert_one(
            {"event_id": envelope.id, "contact_id": envelope.data.contact_id,
             "version": envelope.data.version}, session=tx.session,
        )

    broker = await start_consumer(servers, mongo, service=service, topic=topic,
                                  db_name=consumer_db.name, handler=apply)
    marker = tmp_path / "sent.json"
    repo = servers.config.repo_root
    relay_log = (tmp_path / "relay.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.relay_process",
        "--mongo-url", servers.mongo_url, "--db", producer_db.name,
        "--bootstrap", servers.kafka_bootstrap, "--pause-after-send", str(marker),
        "--lease-s", "5", "--client-id", f"relay-{run}",
        cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)},
        stdout=asyncio.subprocess.DEVNULL, stderr=relay_log,
    )
    second: OutboxRelay | None = None
    try:
        async def marker_written() -> bool:
            if proc.returncode is not None:
                pytest.fail(f"relay process exited: {(tmp_path / 'relay.log').read_text()}")
            return marker.exists()

        await eventually(marker_written, timeout_s=30, what="the relay's first acknowledged batch")
        acknowledged = json.loads(marker.read_text())
        assert acknowledged["pid"] == proc.pid
        assert acknowledged["ids"] == written, "one batch, in commit (sequence) order"

        os.kill(proc.pid, signal.SIGKILL)  # between the broker's ack and the record
        assert await asyncio.wait_for(proc.wait(), timeout=10) == -signal.SIGKILL

        # A second relay: the dead one's lease still holds, so it waits for it to expire
        # (no two relays publish at once), then re-publishes the whole pending batch.
        second = OutboxRelay(producer_db, bootstrap_servers=servers.kafka_bootstrap,
                             client_id=f"relay2-{run}", lease_s=10)
        await second.start()
        lease = await producer_db[LEASES].find_one({"_id": "relay"})
        assert lease is not None and f":{proc.pid}:" in lease["owner"]
        assert lease["expires_at"] - utcnow() > timedelta(seconds=0.5)
        assert await second.publish_pending() == 0, "a live lease of another relay is respected"

        # The kill left everything pending (nothing recorded) although the broker has every
        # event once.
        assert await pending_count(producer_db) == len(written)
        first_pass = await read_topic(servers.kafka_bootstrap, topic, at_least=len(written))
        assert sorted(header(r, "ce_id") for r in first_pass) == sorted(written)

        republished = 0

        async def lease_expired_and_republished() -> bool:
            nonlocal republished
            republished = await second.publish_pending()  # type: ignore[union-attr]
            return republished > 0

        await eventually(lease_expired_and_republished, timeout_s=15, every_s=0.25,
                         what="the dead relay's lease to expire")
        assert republished == len(written)
        assert await pending_count(producer_db) == 0

        # The consumer saw every event twice and applied each once.
        type_ = ContactTagsChanged.TYPE

        async def consumer_done() -> bool:
            return (handled(service, topic, type_, "ok") >= len(written)
                    and handled(service, topic, type_, "duplicate") >= len(written))

        await eventually(consumer_done, timeout_s=CONSUMER_TIMEOUT_S,
                         what="the consumer to handle both copies of every event")
        await asyncio.sleep(0.5)  # an extra application would show up now
    finally:
        if proc.returncode is None:
            os.kill(proc.pid, signal.SIGKILL)
            await asyncio.wait_for(proc.wait(), timeout=10)
        relay_log.close()
        if second is not None:
            await second.stop()
        await broker.stop()

    raw = await read_topic(servers.kafka_bootstrap, topic, at_least=2 * len(written))
    on_topic = Counter(header(r, "ce_id") for r in raw)
    assert on_topic == {event_id: 2 for event_id in written}, "the topic holds duplicates"

    applied = await consumer_db.applied.find({}, {"_id": 0, "event_id": 1}).to_list()
    assert Counter(doc["event_id"] for doc in applied) == {event_id: 1 for event_id in written}
    assert await consumer_db[PROCESSED].count_documents({}) == len(written)
    assert handled(service, topic, ContactTagsChanged.TYPE, "ok") == len(written)
    assert handled(service, topic, ContactTagsChanged.TYPE, "duplicate") == len(written)
    assert await pending_count(producer_db) == 0


# ----------------------------------------------------------------- (b) per-key order


async def test_events_of_one_key_from_concurrent_transactions_arrive_in_version_order(
    servers: JointFixture, mongo: AsyncMongoClient[Document], run: str
) -> None:
    topic, service = f"test.outbox.{run}", f"order-consumer-{run}"
    producer_db, consumer_db = mongo[f"test_outbox_p_{run}"], mongo[f"test_outbox_c_{run}"]
    workspace = f"ws_{run}"
    contacts, per_contact = (11, 12, 13, 14), 15
    await create_topic(servers.kafka_bootstrap, topic)
    await producer_db.contacts.insert_many([{"_id": c, "version": 0} for c in contacts])

    arrival = itertools.count()

    async def record(envelope: Envelope[Any], tx: Transaction) -> None:
        await consumer_db.applied.insert_one(
            {"contact_id": envelope.data.contact_id, "version": envelope.data.version,
             "arrival": next(arrival)}, session=tx.session,
        )

    broker = await start_consumer(servers, mongo, service=service, topic=topic,
                                  db_name=consumer_db.name, handler=record)
    relay = OutboxRelay(producer_db, bootstrap_servers=servers.kafka_bootstrap,
                        client_id=f"relay-{run}", poll_interval_s=0.05, batch_size=7)
    outbox = Outbox(producer_db, on_commit=relay.notify)
    await relay.start()
    relay_task = asyncio.create_task(relay.run())
    try:
        # Every change bumps the contact's version and queues the event carrying it, in one
        # transaction; all of them run at once, so transactions on one contact conflict and
        # retry, and the relay publishes while they commit.
        async def bump(contact_id: int) -> None:
            async def work(session: AsyncClientSession) -> None:
                doc = await producer_db.contacts.find_one_and_update(
                    {"_id": contact_id}, {"$inc": {"version": 1}},
                    return_document=ReturnDocument.AFTER, session=session,
                )
                assert doc is not None
                await outbox.add(session, topic=topic, key=message_key(workspace, contact_id),
                                 envelope=tags_changed(workspace, contact_id, doc["version"]))

            await in_transaction(mongo, work)
            outbox.committed()

        jobs = [bump(c) for _ in range(per_contact) for c in contacts]
        await asyncio.gather(*jobs)
        total = len(jobs)
        for c in contacts:
            assert (await producer_db.contacts.find_one({"_id": c}) or {})["version"] == per_contact

        async def relayed() -> bool:
            return await pending_count(producer_db) == 0

        await eventually(relayed, timeout_s=20, what="the relay to publish the outbox")

        async def consumed() -> bool:
            return await consumer_db.applied.count_documents({}) >= total

        await eventually(consumed, timeout_s=CONSUMER_TIMEOUT_S,
                         what=f"the consumer to apply {total} events")
    finally:
        relay_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await relay_task
        await relay.stop()
        await broker.stop()

    # The broker: each contact's events on one partition, in version order.
    by_key: dict[str, list[tuple[int, int]]] = defaultdict(list)
    raw = await read_topic(servers.kafka_bootstrap, topic, at_least=total)
    for r in sorted(raw, key=lambda r: (r.partition, r.offset)):
        by_key[r.key.decode()].append((r.partition, json.loads(r.value)["data"]["version"]))
    assert set(by_key) == {message_key(workspace, c) for c in contacts}
    for key, seen in by_key.items():
        assert len({partition for partition, _ in seen}) == 1, key
        assert [v for _, v in seen] == list(range(1, per_contact + 1)), key

    # The consumer: applied each contact's events in version order, each once.
    applied = await consumer_db.applied.find({}).sort("arrival", 1).to_list()
    assert len(applied) == total
    for c in contacts:
        versions = [d["version"] for d in applied if d["contact_id"] == c]
        assert versions == list(range(1, per_contact + 1)), f"contact {c}: {versions}"


# ----------------------------------------------------------------- (c) atomicity


class Crash(Exception):
    """The process dies after the event was queued, before the transaction commits."""


async def test_a_failed_transaction_leaves_neither_state_nor_event(
    servers: JointFixture, mongo: AsyncMongoClient[Document], run: str
) -> None:
    topic = f"test.outbox.{run}"
    db = mongo[f"test_outbox_p_{run}"]
    await create_topic(servers.kafka_bootstrap, topic, partitions=1)
    outbox = Outbox(db)
    doomed, kept = tags_changed("ws", 1, 1), tags_changed("ws", 2, 1)

    async def change(envelope: Envelope[Any], *, crash: bool) -> None:
        async def work(session: AsyncClientSession) -> None:
            contact_id = envelope.data.contact_id
            await db.contacts.insert_one({"_id": contact_id, "version": 1}, session=session)
            await outbox.add(session, topic=topic, key=message_key("ws", contact_id),
                             envelope=envelope)
            if crash:
                raise Crash("after Outbox.add, before commit")

        await in_transaction(mongo, work)

    with pytest.raises(Crash):
        await change(doomed, crash=True)
    assert await db.contacts.find_one({"_id": 1}) is None
    assert await db[OUTBOX].find_one({"_id": doomed.id}) is None

    # The same change without the crash commits both, and only it gets published.
    await change(kept, crash=False)
    assert await db.contacts.find_one({"_id": 2}) == {"_id": 2, "version": 1}
    assert await db[OUTBOX].find_one({"_id": kept.id}) is not None
    assert await pending_count(db) == 1

    relay = OutboxRelay(db, bootstrap_servers=servers.kafka_bootstrap, client_id=f"relay-{run}")
    await relay.start()
    try:
        assert await relay.publish_pending() == 1
    finally:
        await relay.stop()
    published = await read_topic(servers.kafka_bootstrap, topic, at_least=1)
    assert [header(r, "ce_id") for r in published] == [kept.id]


async def test_a_key_stays_in_order_when_a_replica_clock_ran_ahead(
    servers: JointFixture, mongo: AsyncMongoClient[Document], run: str
) -> None:
    """An event written by a replica whose clock is an hour ahead is still published before
    the entity's next event, written by a replica with a correct clock."""
    topic = f"test.outbox.{run}"
    db = mongo[f"test_outbox_skew_{run}"]
    await create_topic(servers.kafka_bootstrap, topic, partitions=1)
    outbox = Outbox(db)
    ahead = time.time_ns() + 3600 * 10**9
    first, second = tags_changed("ws", 7, 1), tags_changed("ws", 7, 2)
    other = tags_changed("ws", 8, 1)  # another contact: no order relative to contact 7

    async def write(envelope: Envelope[Any]) -> None:
        async def work(session: AsyncClientSession) -> None:
            await db.contacts.update_one({"_id": envelope.data.contact_id},
                                         {"$set": {"version": envelope.data.version}},
                                         upsert=True, session=session)
            await outbox.add(session, topic=topic, key=message_key("ws", envelope.data.contact_id),
                             envelope=envelope)

        await in_transaction(mongo, work)

    await write(first)
    # the replica with the fast clock stamped the first event in the future
    await db[OUTBOX].update_one({"_id": first.id}, {"$set": {"at": ahead}})
    await write(other)
    await write(second)
    rows = {doc["_id"]: doc["at"] for doc in await db[OUTBOX].find().to_list()}
    assert rows[second.id] > rows[first.id] == ahead > rows[other.id]

    relay = OutboxRelay(db, bootstrap_servers=servers.kafka_bootstrap, client_id=f"relay-{run}")
    await relay.start()
    try:
        assert await relay.publish_pending() == 3
    finally:
        await relay.stop()
    published = await read_topic(servers.kafka_bootstrap, topic, at_least=3)
    assert [header(r, "ce_id") for r in published] == [other.id, first.id, second.id]
