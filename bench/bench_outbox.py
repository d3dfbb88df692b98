"""Outbox relay throughput next to the raw publish→consume rate of the same broker.

In one run, on the bench broker and a fresh database:

(a) raw: an aiokafka producer (``acks=all``, ``linger_ms=2``, the relay's own
    producer settings) publishes RAW_N contact-event-sized messages while a
    consumer (manual partition assignment, no group) reads them: messages/s
    from the first send to the last record consumed.
(b) outbox end to end: W writers commit N events, one MongoDB transaction per
    event through ``Outbox.add``, while an ``OutboxRelay`` (woken on every
    commit, as in the services) publishes them and a consumer reads them:
    events/s from the first commit to the last record consumed, and the
    commit rate while the relay runs.
(c) relay only: N events committed with no relay running (the commit rate
    alone; and a smaller run with a single writer, which never conflicts on the
    outbox counter), then a relay that never ran before starts: it catches up
    with one snapshot scan of the outbox; events/s from its start to the last
    record consumed.
(c') relay restart: a relay runs once on the empty outbox (it records a resume
    token) and stops; N events are committed; a new relay resumes the change
    stream from the recorded token: events/s from its start to the last record
    consumed. This is how a relay catches up after a restart or a lease takeover.

Ratios relay/raw are printed. Every phase has its own fresh topic and database.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from bench._common import (
    DEADLINE_S,
    TopicCounter,
    bench_stack,
    create_topic,
    header,
    record,
    say,
)
from shared.contracts import ContactCreated, ContactState, Envelope, envelope_for
from shared.contracts.envelope import utcnow
from shared.mongo import Document, in_transaction, make_mongo_client
from shared.outbox import Outbox, OutboxRelay, ensure_outbox_indexes, message_key
from shared.settings import MongoSettings

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
#: Events of each outbox phase.
N = max(100, int(5_000 * SCALE))
#: Messages of the raw phase: more than N, since 5,000 take well under a second.
RAW_N = max(1_000, int(20_000 * SCALE))
#: Concurrent transaction writers.
WRITERS = 4
#: Events committed by a single writer, to show what contention on the outbox counter costs.
SINGLE_WRITER_N = max(100, N // 5)
#: Partitions of the bench topics (the system's topics have 6).
PARTITIONS = 6
#: Distinct entities (keys) the messages are about.
ENTITIES = 1_000
WORKSPACE = "ws-bench-outbox"


def contact_event(i: int) -> Envelope[Any]:
    """A ``contact.created`` envelope like the contacts service writes."""
    contact_id = i % ENTITIES + 1
    data = ContactCreated(
        contact_id=contact_id,
        version=1,
        contact=ContactState(
            first_name="Ann",
            last_name=f"Lee-{i}",
            email=f"ann.lee.{i}@example.com",
            phone=f"+336{12000000 + i:08d}",
            country_code="FR",
            language="fr",
            tags=("vip", "newsletter"),
            created_at=utcnow(),
        ),
    )
    return envelope_for(
        data, source="contacthub/contacts", subject=f"contact/{contact_id}", workspace_id=WORKSPACE
    )


def key_of(envelope: Envelope[Any]) -> str:
    """The Kafka key the services use: workspace + entity id."""
    return message_key(envelope.workspaceid, envelope.subject.rsplit("/", 1)[1])


def by_event_id(rec: Any) -> bytes | None:
    """Identity of a relayed record: its event id header (duplicates counted once)."""
    return header(rec, "ce_id")


# ----------------------------------------------------------------- (a) raw


async def raw_rate(bootstrap: str, topic: str) -> dict[str, Any]:
    """Publish RAW_N messages with a plain producer while a consumer reads them."""
    envelopes = [contact_event(i) for i in range(RAW_N)]
    messages = [
        (
            key_of(e).encode(),
            e.model_dump_json().encode(),
            [("ce_type", e.type.encode()), ("ce_id", e.id.encode())],
        )
        for e in envelopes
    ]
    size = sum(len(v) for _, v, _ in messages) / len(messages)
    await create_topic(bootstrap, topic, partitions=PARTITIONS)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-raw",
        acks="all",
        linger_ms=2,
        enable_idempotence=False,
    )
    await producer.start()
    try:
        async with TopicCounter(bootstrap, topic, accept=by_event_id) as counter:
            consumed = asyncio.create_task(counter.wait(RAW_N))
            started = time.perf_counter()
            acks = [
                await producer.send(topic, value=value, key=key, headers=headers)
                for key, value, headers in messages
            ]
            await asyncio.wait_for(asyncio.gather(*acks), timeout=DEADLINE_S)
            acked = time.perf_counter()
            last = await consumed
    finally:
        await producer.stop()
    elapsed = last - started
    return {
        "messages": RAW_N,
        "message_bytes": round(size),
        "elapsed_s": round(elapsed, 3),
        "per_s": round(RAW_N / elapsed, 1),
        "acked_per_s": round(RAW_N / (acked - started), 1),
    }


# ----------------------------------------------------------------- (b, c) outbox


class Writers:
    """W concurrent writers, one transaction per event through ``Outbox.add``."""

    def __init__(
        self, client: AsyncMongoClient[Document], outbox: Outbox, topic: str,
        writers: int = WRITERS,
    ):
        self._client = client
        self._outbox = outbox
        self._topic = topic
        self._writers = writers
        self.attempts = 0

    async def commit_all(self, envelopes: list[Envelope[Any]]) -> float:
        """Commit every envelope; return the elapsed seconds."""
        pending: Iterator[Envelope[Any]] = iter(envelopes)

        async def writer() -> None:
            for envelope in pending:  # shared iterator: each event is committed once

                async def work(session: AsyncClientSession, e: Envelope[Any] = envelope) -> None:
                    self.attempts += 1
                    await self._outbox.add(session, topic=self._topic, key=key_of(e), envelope=e)

                await in_transaction(self._client, work)
                self._outbox.committed()

        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(writer() for _ in range(self._writers))), timeout=DEADLINE_S * 2
        )
        return time.perf_counter() - started


class TimedRelay(OutboxRelay):
    """The relay as the services run it, noting how long its Kafka sends (send + acks) take;
    the rest of its time is MongoDB (catch-up scan or change stream, one position write per
    batch)."""

    def __init__(self, db: Any, bootstrap: str):
        # The services' defaults: 0.5 s poll, batches of 500.
        super().__init__(db, bootstrap_servers=bootstrap, client_id="bench-relay")
        self.kafka_s = 0.0
        self.batches = 0

    async def _send(self, batch: list[Document]) -> None:
        started = time.perf_counter()
        await super()._send(batch)
        self.kafka_s += time.perf_counter() - started
        self.batches += 1


async def stop_relay(relay: OutboxRelay, task: asyncio.Task[None] | None) -> None:
    """Cancel the relay loop and close its producer."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await relay.stop()


async def outbox_end_to_end(
    client: AsyncMongoClient[Document], bootstrap: str, db_name: str, topic: str
) -> dict[str, Any]:
    """Commit N events while the relay runs; time from first commit to last consumed."""
    db = client[db_name]
    await ensure_outbox_indexes(db)
    await create_topic(bootstrap, topic, partitions=PARTITIONS)
    envelopes = [contact_event(i) for i in range(N)]
    relay = TimedRelay(db, bootstrap)
    await relay.start()
    task: asyncio.Task[None] | None = None
    try:
        writers = Writers(client, Outbox(db, on_commit=relay.notify), topic)
        async with TopicCounter(bootstrap, topic, accept=by_event_id) as counter:
            task = asyncio.create_task(relay.run())
            consumed = asyncio.create_task(counter.wait(N))
            started = time.perf_counter()
            commit_s = await writers.commit_all(envelopes)
            last = await consumed
    finally:
        await stop_relay(relay, task)
        await client.drop_database(db_name)
    elapsed = last - started
    return {
        "events": N,
        "writers": WRITERS,
        "elapsed_s": round(elapsed, 3),
        "per_s": round(N / elapsed, 1),
        "commit_per_s": round(N / commit_s, 1),
        "tx_retries": writers.attempts - N,
        "duplicates": counter.duplicates,
        "relay_batches": relay.batches,
    }


async def relay_only(
    client: AsyncMongoClient[Document], bootstrap: str, db_name: str, topic: str
) -> dict[str, Any]:
    """Commit N events with no relay; then time the relay alone until all are consumed."""
    db = client[db_name]
    await ensure_outbox_indexes(db)
    await create_topic(bootstrap, topic, partitions=PARTITIONS)
    envelopes = [contact_event(i) for i in range(N)]
    relay = TimedRelay(db, bootstrap)
    task: asyncio.Task[None] | None = None
    try:
        writers = Writers(client, Outbox(db), topic)
        commit_s = await writers.commit_all(envelopes)
        await relay.start()  # producer connected before the clock starts
        async with TopicCounter(bootstrap, topic, accept=by_event_id) as counter:
            consumed = asyncio.create_task(counter.wait(N))
            started = time.perf_counter()
            task = asyncio.create_task(relay.run())
            last = await consumed
    finally:
        await stop_relay(relay, task)
        await client.drop_database(db_name)
    elapsed = last - started
    return {
        "events": N,
        "elapsed_s": round(elapsed, 3),
        "per_s": round(N / elapsed, 1),
        "relay_kafka_s": round(relay.kafka_s, 3),
        "relay_batches": relay.batches,
        "commit_per_s": round(N / commit_s, 1),
        "writers": WRITERS,
        "tx_retries": writers.attempts - N,
        "duplicates": counter.duplicates,
    }


async def relay_restart(
    client: AsyncMongoClient[Document], bootstrap: str, db_name: str, topic: str
) -> dict[str, Any]:
    """A relay records a resume token and stops; N events are committed; time a new relay
    that resumes the change stream from the token until all are consumed."""
    db = client[db_name]
    await ensure_outbox_indexes(db)
    await create_topic(bootstrap, topic, partitions=PARTITIONS)
    envelopes = [contact_event(i) for i in range(N)]
    earlier = TimedRelay(db, bootstrap)
    await earlier.start()
    try:
        assert await earlier.publish_pending() == 0  # nothing yet: records the stream's start
    finally:
        await earlier.stop()
        await earlier.release()
    relay = TimedRelay(db, bootstrap)
    task: asyncio.Task[None] | None = None
    try:
        await Writers(client, Outbox(db), topic).commit_all(envelopes)
        await relay.start()
        async with TopicCounter(bootstrap, topic, accept=by_event_id) as counter:
            consumed = asyncio.create_task(counter.wait(N))
            started = time.perf_counter()
            task = asyncio.create_task(relay.run())
            last = await consumed
    finally:
        await stop_relay(relay, task)
        await client.drop_database(db_name)
    elapsed = last - started
    return {
        "events": N,
        "elapsed_s": round(elapsed, 3),
        "per_s": round(N / elapsed, 1),
        "relay_kafka_s": round(relay.kafka_s, 3),
        "relay_batches": relay.batches,
        "duplicates": counter.duplicates,
    }


async def single_writer(
    client: AsyncMongoClient[Document], db_name: str, topic: str
) -> dict[str, Any]:
    """Commit rate of one writer alone (no conflicts on the outbox counter), no relay."""
    db = client[db_name]
    await ensure_outbox_indexes(db)
    writers = Writers(client, Outbox(db), topic, writers=1)
    try:
        commit_s = await writers.commit_all([contact_event(i) for i in range(SINGLE_WRITER_N)])
    finally:
        await client.drop_database(db_name)
    return {
        "events": SINGLE_WRITER_N,
        "commit_per_s": round(SINGLE_WRITER_N / commit_s, 1),
        "tx_retries": writers.attempts - SINGLE_WRITER_N,
    }


# ----------------------------------------------------------------- main


async def run(bootstrap: str, mongo_url: str) -> dict[str, Any]:
    """All three phases, printed as they finish."""
    run_id = uuid.uuid4().hex[:8]
    say(
        "settings",
        f"N={N} events, {RAW_N} raw messages, {PARTITIONS} partitions, {WRITERS} writers, "
        "acks=all",
    )

    raw = await raw_rate(bootstrap, f"bench.raw.{run_id}")
    say(
        "(a) raw publish→consume",
        f"{raw['messages']} msgs of {raw['message_bytes']} B in {raw['elapsed_s']:.2f}s = "
        f"{raw['per_s']:,.0f} msg/s (all acked at {raw['acked_per_s']:,.0f} msg/s)",
    )

    client = make_mongo_client(
        MongoSettings(mongo_url=mongo_url, mongo_database="bench"), app_name="bench-outbox"
    )
    try:
        e2e = await outbox_end_to_end(
            client, bootstrap, f"bench_outbox_{run_id}_e2e", f"bench.outbox.{run_id}"
        )
        say(
            "(b) outbox commit→consume",
            f"{e2e['events']} events in {e2e['elapsed_s']:.2f}s = {e2e['per_s']:,.0f} ev/s "
            f"(commits {e2e['commit_per_s']:,.0f} tx/s with the relay running, "
            f"{e2e['tx_retries']} tx retries, {e2e['duplicates']} duplicates, "
            f"{e2e['relay_batches']} relay batches)",
        )
        alone = await relay_only(
            client, bootstrap, f"bench_outbox_{run_id}_relay", f"bench.relay.{run_id}"
        )
        say(
            "(c) commit rate, no relay running",
            f"{alone['commit_per_s']:,.0f} tx/s ({WRITERS} writers, 1 event per tx, "
            f"{alone['tx_retries']} tx retries)",
        )
        single = await single_writer(client, f"bench_outbox_{run_id}_single", "unused")
        say(
            "    same, 1 writer",
            f"{single['commit_per_s']:,.0f} tx/s ({single['events']} events, "
            f"{single['tx_retries']} tx retries)",
        )
        say(
            "(c) relay only, start→consumed",
            f"{alone['events']} events in {alone['elapsed_s']:.2f}s = {alone['per_s']:,.0f} ev/s "
            f"({alone['duplicates']} duplicates; {alone['relay_batches']} batches, Kafka "
            f"send+ack {alone['relay_kafka_s']:.2f}s, the rest is MongoDB: snapshot scan, "
            "position writes)",
        )
        restart = await relay_restart(
            client, bootstrap, f"bench_outbox_{run_id}_restart", f"bench.restart.{run_id}"
        )
        say(
            "(c') relay restart, resume token",
            f"{restart['events']} events in {restart['elapsed_s']:.2f}s = "
            f"{restart['per_s']:,.0f} ev/s ({restart['duplicates']} duplicates; "
            f"{restart['relay_batches']} batches, Kafka send+ack {restart['relay_kafka_s']:.2f}s, "
            "the rest is MongoDB: change stream, position writes)",
        )
    finally:
        await client.close()

    ratios = {
        "relay_only_over_raw": round(alone["per_s"] / raw["per_s"], 3),
        "relay_restart_over_raw": round(restart["per_s"] / raw["per_s"], 3),
        "end_to_end_over_raw": round(e2e["per_s"] / raw["per_s"], 3),
    }
    say(
        "ratio relay/raw",
        f"relay only {ratios['relay_only_over_raw']:.2f}, "
        f"relay restart {ratios['relay_restart_over_raw']:.2f}, "
        f"commit→consume {ratios['end_to_end_over_raw']:.2f}",
    )
    return {
        "raw": raw,
        "outbox_end_to_end": e2e,
        "relay_only": alone,
        "relay_restart": restart,
        "commit_single_writer": single,
        "ratios": ratios,
    }


def main() -> None:
    """Start the bench broker and database, measure, stop them."""
    with bench_stack() as cfg:
        figures = asyncio.run(run(cfg.kafka_bootstrap, cfg.mongo_url))
    record("outbox", figures)
