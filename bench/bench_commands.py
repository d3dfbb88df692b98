"""The contacts commands subscriber, batched and per message, next to the raw broker + store rate.

In one run, on the bench broker and a fresh database (no services: the subscribers run in
this process, wired the way `services/contacts/app.py` wires them):

(a) raw: N command-sized records are produced (6 partitions) while a consumer (manual
    assignment, no group) reads them in batches of up to 100 and writes each batch with
    one `insert_many`: records/s from the first send to the last write. What the broker
    and the store can do together with no rules at all: the ceiling.
(b) batch subscriber: N `contact.create_for_sender` commands (distinct senders) through
    `services.contacts.consumers.register_consumers` (FastStream batch subscriber, up to
    100 commands per transaction; each creates a contact, its sender link, its processed-
    message record and its `contact.created` outbox row): commands/s from the first
    publish to the last contact committed.
(c) per-message subscriber: the same handler through `shared.consuming.register_consumer`
    (one transaction per command), on N_SINGLE commands.

(a') raw with the same writes: as (a), but each record becomes the four documents a command
    writes, into collections with the same indexes (the store's own ceiling for this work).

Each subscriber joins its consumer group and applies a warm-up command before the clock
starts (a group's first assignment takes ~5 s on the local broker). Ratios to (a) are
printed. The outbox relay is not running: (b) and (c) stop at the commit.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY as METRICS
from pymongo.asynchronous.database import AsyncDatabase

from bench._common import DEADLINE_S, bench_stack, create_topic, record, say
from services.contacts.app import bootstrap
from services.contacts.consumers import GROUP, register_consumers
from services.contacts.handlers.senders import create_for_sender
from services.contacts.settings import ContactsSettings
from services.contacts.store import CatalogStore, ContactStore
from shared.consuming import register_consumer
from shared.contracts import ContactOrigin, CreateContactForSender, Envelope, envelope_for
from shared.contracts.envelope import utcnow
from shared.kafka import make_broker
from shared.mongo import Document, make_mongo_client
from shared.outbox import Outbox, ensure_outbox_indexes
from shared.settings import Topics
from shared.unit_of_work import MongoUnitOfWork, Transaction, ensure_unit_of_work_indexes

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
N = max(500, int(5_000 * SCALE))
N_SINGLE = max(200, int(1_000 * SCALE))
RAW_N = max(2_000, int(20_000 * SCALE))
PARTITIONS = 6
BATCH = 100


def sender_command(workspace: str, i: int) -> Envelope[Any]:
    """A command like the channels service sends for a new WhatsApp sender."""
    number = f"55119{i:08d}"
    payload = CreateContactForSender(
        origin=ContactOrigin(channel_id=1, sender_id=number), first_name=f"Sender {i}",
        phone=number, language="pt_BR",
    )
    return envelope_for(payload, source="contacthub/channels", subject=f"sender/1/{number}",
                        workspace_id=workspace)


async def produce(bootstrap: str, topic: str, values: list[tuple[bytes, bytes]]) -> float:
    """Send every (key, value) with acks=all; the time of the first send."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2,
                                enable_idempotence=False)
    await producer.start()
    try:
        started = time.perf_counter()
        acks = [await producer.send(topic, value=v, key=k) for k, v in values]
        await asyncio.gather(*acks)
        return started
    finally:
        await producer.stop()


async def wait_count(db: AsyncDatabase[Document], collection: str, query: dict[str, Any],
                     expected: int) -> float:
    """Poll until ``expected`` documents match; the time it happened."""
    deadline = time.perf_counter() + DEADLINE_S * 3
    while time.perf_counter() < deadline:
        if await db[collection].count_documents(query) >= expected:
            return time.perf_counter()
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{collection}: fewer than {expected} documents after the deadline")


async def raw_phase(bootstrap: str, mongo_url: str, *, same_writes: bool = False) -> float:
    """(a) produce → consume in batches → insert_many; records/s. With ``same_writes``, (a'):
    each record becomes the four documents a command writes (a contact in a collection
    with the contacts service's indexes, a sender link, an outbox row, a processed-message
    record), one insert_many per collection per batch, no transaction, no rules."""
    topic = f"bench.commands.raw.{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, topic, partitions=PARTITIONS)
    client = make_mongo_client_for(mongo_url, "bench_raw")
    db = client["bench_raw"]
    if same_writes:
        await ContactStore(db).ensure_indexes()
        await ensure_outbox_indexes(db)
        await ensure_unit_of_work_indexes(db)
    values = [(f"ws:{i}".encode(), sender_command("ws-raw", i).model_dump_json().encode())
              for i in range(RAW_N)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                fetch_max_wait_ms=20)
    await consumer.start()
    written = 0
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        sending = asyncio.create_task(produce(bootstrap, topic, values))
        deadline = time.perf_counter() + DEADLINE_S
        while written < RAW_N and time.perf_counter() < deadline:
            batches = await consumer.getmany(timeout_ms=100, max_records=BATCH)
            for records in batches.values():
                if same_writes:
                    await write_like_a_command(db, [r.value for r in records], written)
                else:
                    await db.raw.insert_many([{"v": r.value} for r in records], ordered=False)
                written += len(records)
        finished = time.perf_counter()
        started = await sending
    finally:
        await consumer.stop()
        await client.drop_database("bench_raw")
        await client.close()
    rate = written / (finished - started)
    if same_writes:
        say("(a') raw, the same 4 writes per record",
            f"{written} records in {finished - started:.2f}s = {rate:,.0f} rec/s "
            f"(4 insert_many per batch, the contacts indexes, no transaction)")
    else:
        say("(a) raw produce→consume→insert_many",
            f"{written} records in {finished - started:.2f}s = {rate:,.0f} rec/s "
            f"(batches of up to {BATCH}, one insert_many each)")
    return rate


async def write_like_a_command(db: AsyncDatabase[Document], values: list[bytes],
                               offset: int) -> None:
    """The documents a create_for_sender writes, without reading, validating or a transaction."""
    now = utcnow()
    contacts, links, outbox, processed = [], [], [], []
    for i, value in enumerate(values, start=offset):
        contacts.append({
            "_id": f"ws:{i}", "workspace_id": "ws", "id": i, "first_name": f"Sender {i}",
            "last_name": None, "email": None, "email_key": None, "phone": f"+55119{i:08d}",
            "phone_canonical": f"+55119{i:08d}", "country_code": "BR", "country_manual": False,
            "language": "pt-BR", "profile_pic": None, "assignee": None, "status": None,
            "blocked": False, "tags": [], "tag_keys": [], "custom_fields": {},
            "created_at": now, "updated_at": now, "version": 1,
        })
        links.append({"_id": f"ws:1:{i}", "workspace_id": "ws", "channel_id": 1,
                      "sender_id": str(i), "contact_id": i, "linked_at": now})
        outbox.append({"_id": f"e{i}", "at": i, "topic": "t", "key": f"ws:{i}",
                       "type": "contact.created", "value": value, "created_at": now})
        processed.append({"_id": f"g:m{i}", "at": now})
    await db.contacts.insert_many(contacts, ordered=False)
    await db.sender_links.insert_many(links, ordered=False)
    await db.outbox.insert_many(outbox, ordered=False)
    await db.processed_messages.insert_many(processed, ordered=False)


def make_mongo_client_for(url: str, database: str) -> Any:
    """A client of the bench database, built like the services build theirs."""
    settings = ContactsSettings(mongo_url=url, mongo_database=database,
                                internal_token="bench-internal-token-000000")
    return make_mongo_client(settings, app_name="bench")


async def subscriber_phase(bootstrap: str, mongo_url: str, *, batched: bool) -> float:
    """(b) / (c): commands through the contacts subscriber; commands/s publish→committed."""
    name = f"bench_cmd_{'batch' if batched else 'single'}"
    topic = f"bench.commands.{name}.{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, topic, partitions=PARTITIONS)
    settings = ContactsSettings(
        mongo_url=mongo_url, mongo_database=name, kafka_bootstrap_servers=bootstrap,
        internal_token="bench-internal-token-000000", kafka_session_timeout_ms=6000,
        kafka_heartbeat_interval_ms=1000, command_batch_size=BATCH,
        topics=Topics(contacts_commands=topic),
    )
    client = make_mongo_client(settings, app_name="bench")
    db = client[name]
    outbox = Outbox(db)
    await ensure_outbox_indexes(db)
    await ensure_unit_of_work_indexes(db)
    await ContactStore(db).ensure_indexes()
    await CatalogStore(db).ensure_indexes()
    uow = MongoUnitOfWork(client, db, outbox)
    deps = bootstrap_deps(settings, uow, db)
    broker = make_broker(settings, client_id=name)
    group = f"{GROUP}-{uuid.uuid4().hex[:6]}"
    if batched:
        register_consumers(broker, settings=settings, uow=uow.for_consumer(group), deps=deps,
                           group_id=group)
    else:
        async def one(envelope: Envelope[Any], tx: Transaction) -> None:
            await create_for_sender(envelope.data, workspace_id=envelope.workspaceid,
                                    deps=deps, tx=tx)

        register_consumer(broker, service=name, settings=settings,
                          uow=uow.for_consumer(group), topic=topic, group_id=group, handler=one)
    count = N if batched else N_SINGLE
    workspace = f"ws-{name}"
    await broker.start()
    try:
        warm = sender_command(workspace, 10_000_000)
        await produce(bootstrap, topic, [(b"warm", warm.model_dump_json().encode())])
        await wait_count(db, "contacts", {}, 1)
        values = [(f"{workspace}:{i}".encode(), sender_command(workspace, i)
                   .model_dump_json().encode()) for i in range(count)]
        started = await produce(bootstrap, topic, values)
        service = settings.service_name if batched else name
        before = _deliveries(service, topic)
        finished = await wait_count(db, "contacts", {}, count + 1)
        deliveries = _deliveries(service, topic) - before
        links = await db.sender_links.count_documents({})
    finally:
        await broker.stop()
        await client.drop_database(name)
        await client.close()
    rate = count / (finished - started)
    label = ("(b) batch subscriber, publish→committed" if batched
             else "(c) per-message subscriber")
    say(label, f"{count} commands in {finished - started:.2f}s = {rate:,.0f} cmd/s "
        f"({'up to ' + str(BATCH) + ' per transaction' if batched else '1 per transaction'}, "
        f"{count / max(deliveries, 1):.0f} per delivery on average; {links} sender links)")
    return rate


def _deliveries(service: str, topic: str) -> float:
    """How many times the subscriber was handed records (batches or single messages)."""
    value = METRICS.get_sample_value("contacthub_handler_seconds_count",
                                     {"service": service, "topic": topic})
    return value or 0.0


def bootstrap_deps(settings: ContactsSettings, uow: MongoUnitOfWork,
                   db: AsyncDatabase[Document]) -> Any:
    """The contacts handlers' dependencies, wired by the service's own bootstrap."""
    return bootstrap(settings, uow=uow, contacts=ContactStore(db), catalog=CatalogStore(db)).deps


async def run(bootstrap: str, mongo_url: str) -> None:
    """Run the three phases on one bench stack."""
    raw = await raw_phase(bootstrap, mongo_url)
    same = await raw_phase(bootstrap, mongo_url, same_writes=True)
    batched = await subscriber_phase(bootstrap, mongo_url, batched=True)
    single = await subscriber_phase(bootstrap, mongo_url, batched=False)
    say("ratios to raw (a)", f"batch subscriber {batched / raw:.3f}, per-message "
        f"{single / raw:.3f}, batch/per-message x{batched / single:.1f}")
    say("ratios to (a') same writes", f"batch subscriber {batched / same:.2f}, per-message "
        f"{single / same:.2f}")
    record("commands", {"raw_rec_s": round(raw), "raw_same_writes_rec_s": round(same),
                        "batch_cmd_s": round(batched), "single_cmd_s": round(single),
                        "ratio_batch_raw": round(batched / raw, 3),
                        "ratio_batch_same_writes": round(batched / same, 3),
                        "ratio_single_raw": round(single / raw, 3), "n": N, "batch": BATCH})


def main() -> None:
    """Start the bench broker and database, measure, stop them."""
    with bench_stack(()) as cfg:
        asyncio.run(run(cfg.kafka_bootstrap, cfg.mongo_url))
