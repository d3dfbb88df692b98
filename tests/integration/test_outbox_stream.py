"""The outbox relay's change-stream path on the real broker and database.

- A relay that recorded its position resumes from the token: a restart sends only
  what came after, each event once, in commit order; the backlog gauge's count
  follows; the outbox keeps its rows a week (TTL on ``created_at``), no ``sent`` flag.
- A batch sent but not recorded (the relay dies in between) is sent again by the
  next holder of the lease: at least once, nothing lost.
- A resume token that has left the capped oplog (a private SecantusDB with a tiny
  oplog) makes the relay fall back to a scan of the rows created since its position:
  nothing lost, each key in order.

Every test uses its own topic and database (uuid names).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from shared.mongo import Document, in_transaction, make_mongo_client
from shared.outbox import (
    LEASES,
    OUTBOX,
    OUTBOX_EXPIRY,
    RETENTION_S,
    Outbox,
    OutboxRelay,
    ensure_outbox_indexes,
    message_key,
    pending_count,
)
from shared.settings import MongoSettings
from tests.fixtures.stack import JointFixture
from tests.integration.test_outbox_relay import create_topic, header, read_topic, tags_changed, uid

SECANTUSD = Path(sys.executable).with_name("secantusd-py")
WORKSPACE = "ws"


def client_of(url: str) -> AsyncMongoClient[Document]:
    """A client like the services' (tz-aware, majority writes)."""
    return make_mongo_client(MongoSettings(mongo_url=url, mongo_database="unused"),
                             app_name="outbox-stream-test")


@pytest.fixture
async def producer(servers: JointFixture) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh producing database on the test server, dropped afterwards."""
    client = client_of(servers.mongo_url)
    db = client[f"test_outbox_stream_{uid()}"]
    await ensure_outbox_indexes(db)
    yield db
    await client.drop_database(db.name)
    await client.close()


async def commit(db: AsyncDatabase[Document], topic: str, contact_id: int, version: int
                 ) -> str:
    """One use case: the contact's new version and its event, in one transaction."""
    envelope = tags_changed(WORKSPACE, contact_id, version)

    async def work(session: AsyncClientSession) -> None:
        await db.contacts.update_one({"_id": contact_id}, {"$set": {"version": version}},
                                     upsert=True, session=session)
        await Outbox(db).add(session, topic=topic, key=message_key(WORKSPACE, contact_id),
                             envelope=envelope)

    await in_transaction(db.client, work)
    return envelope.id


async def commit_many(db: AsyncDatabase[Document], topic: str, *, contacts: int, versions: range
                      ) -> list[str]:
    """Versions ``versions`` of contacts 1..``contacts``, interleaved across contacts."""
    return [await commit(db, topic, c, v) for v in versions for c in range(1, contacts + 1)]


def relay_of(db: AsyncDatabase[Document], servers: JointFixture, **options: Any) -> OutboxRelay:
    """A relay on ``db`` with a short lease."""
    return OutboxRelay(db, bootstrap_servers=servers.kafka_bootstrap,
                       client_id=f"relay-{uid()}", lease_s=options.pop("lease_s", 3), **options)


def versions_by_key(records: list[Any]) -> dict[str, list[int]]:
    """Each key's event versions in the order the broker holds them (first copy of an id)."""
    seen: set[str] = set()
    by_key: dict[str, list[int]] = defaultdict(list)
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        if header(r, "ce_id") in seen:
            continue
        seen.add(header(r, "ce_id"))
        by_key[r.key.decode()].append(json.loads(r.value)["data"]["version"])
    return by_key


async def test_a_restarted_relay_resumes_from_its_token(
    servers: JointFixture, producer: AsyncDatabase[Document]
) -> None:
    topic = f"test.outbox.stream.{uid()}"
    await create_topic(servers.kafka_bootstrap, topic)
    indexes = await producer[OUTBOX].index_information()
    assert "created_at_1" in indexes  # rows expire by the service's sweep (retention.py)
    assert OUTBOX_EXPIRY.after_s == RETENTION_S == 7 * 24 * 3600
    assert not [name for name in indexes if name.startswith("sent")]

    first = relay_of(producer, servers)
    await first.start()
    try:
        early = await commit_many(producer, topic, contacts=3, versions=range(1, 3))
        assert await first.publish_pending() == len(early)  # first start: the catch-up scan
        later = await commit_many(producer, topic, contacts=3, versions=range(3, 6))
        assert await pending_count(producer) == len(later)
        assert await first.publish_pending() == len(later)  # the stream, in commit order
        assert await pending_count(producer) == 0
    finally:
        await first.stop()
        await first.release()
    lease = await producer[LEASES].find_one({"_id": "relay"})
    assert lease is not None and lease["token"] is not None and lease["through"] is not None

    last = await commit_many(producer, topic, contacts=3, versions=range(6, 9))
    assert await pending_count(producer) == len(last)
    second = relay_of(producer, servers)
    await second.start()
    try:
        assert await second.publish_pending() == len(last), "only what came after the token"
        assert await second.publish_pending() == 0
    finally:
        await second.stop()
    assert await pending_count(producer) == 0
    assert await producer[OUTBOX].count_documents({"sent": {"$exists": True}}) == 0

    written = early + later + last
    records = await read_topic(servers.kafka_bootstrap, topic, at_least=len(written))
    assert Counter(header(r, "ce_id") for r in records) == {i: 1 for i in written}
    assert versions_by_key(records) == {
        message_key(WORKSPACE, c): list(range(1, 9)) for c in (1, 2, 3)
    }


class Died(Exception):
    """The relay process dies after the broker acknowledged a batch, before the record."""


async def test_a_batch_sent_but_not_recorded_is_sent_again(
    servers: JointFixture, producer: AsyncDatabase[Document]
) -> None:
    topic = f"test.outbox.stream.{uid()}"
    await create_topic(servers.kafka_bootstrap, topic)
    relay = relay_of(producer, servers)
    await relay.start()
    try:
        assert await relay.publish_pending() == 0  # records the stream's start
    finally:
        await relay.stop()
        await relay.release()
    written = await commit_many(producer, topic, contacts=2, versions=range(1, 5))

    sent: list[list[str]] = []

    async def die_after_first_send(batch: list[Document]) -> None:
        sent.append([str(doc["_id"]) for doc in batch])
        raise Died

    doomed = relay_of(producer, servers, lease_s=1, after_send=die_after_first_send)
    await doomed.start()
    try:
        with pytest.raises(Died):
            await doomed.publish_pending()
    finally:
        await doomed.stop()  # its lease is left to expire, as a dead process's would
    assert sent == [written], "one batch, read from the stream in commit order"
    assert await pending_count(producer) == len(written)

    heir = relay_of(producer, servers)
    await heir.start()
    try:
        deadline = time.monotonic() + 10
        republished = 0
        while republished == 0 and time.monotonic() < deadline:
            republished = await heir.publish_pending()
            await asyncio.sleep(0.1)
    finally:
        await heir.stop()
    assert republished == len(written)
    assert await pending_count(producer) == 0
    records = await read_topic(servers.kafka_bootstrap, topic, at_least=2 * len(written))
    assert Counter(header(r, "ce_id") for r in records) == {i: 2 for i in written}


# ----------------------------------------------------------------- a lost resume token


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def small_oplog(tmp_path: Path) -> Iterator[str]:
    """A private SecantusDB whose oplog keeps 40 entries; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [str(SECANTUSD), "--host", "127.0.0.1", "--port", str(port),
         "--storage-path", str(tmp_path / "db"), "--oplog-max-entries", "40"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("private database did not start")
            time.sleep(0.1)
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


async def test_a_lost_resume_token_falls_back_to_a_scan(
    servers: JointFixture, small_oplog: str
) -> None:
    topic = f"test.outbox.stream.{uid()}"
    await create_topic(servers.kafka_bootstrap, topic)
    client = client_of(small_oplog)
    db = client["producer"]
    try:
        await ensure_outbox_indexes(db)
        relay = relay_of(db, servers)
        await relay.start()
        try:
            before = await commit_many(db, topic, contacts=2, versions=range(1, 3))
            assert await relay.publish_pending() == len(before)
        finally:
            await relay.stop()
            await relay.release()
        token = (await db[LEASES].find_one({"_id": "relay"}) or {})["token"]

        # Far more than 40 oplog entries; SecantusDB prunes every 1,000 writes, or now when
        # asked: the recorded token is no longer in the oplog.
        after = await commit_many(db, topic, contacts=4, versions=range(3, 18))
        assert (await client.admin.command("secantusAdmin.pruneOplog"))["pruned"] > 0
        with pytest.raises(OperationFailure, match="oplog"):
            stream = await db[OUTBOX].watch(resume_after=token)
            await stream.try_next()

        heir = relay_of(db, servers)
        await heir.start()
        try:
            # The scan re-reads the rows created since `through` minus a margin: the
            # ones sent before come again (at least once), every later one comes.
            assert await heir.publish_pending() == len(before) + len(after)
            assert await heir.publish_pending() == 0
        finally:
            await heir.stop()
        assert await pending_count(db) == 0
    finally:
        await client.close()

    records = await read_topic(servers.kafka_bootstrap, topic,
                               at_least=2 * len(before) + len(after))
    assert set(Counter(header(r, "ce_id") for r in records)) == set(before + after)
    by_key = versions_by_key(records)
    assert by_key == {
        **{message_key(WORKSPACE, c): list(range(1, 18)) for c in (1, 2)},
        **{message_key(WORKSPACE, c): list(range(3, 18)) for c in (3, 4)},
    }


async def test_an_event_too_large_to_publish_goes_to_the_dlq_and_the_rest_flow(
    servers: JointFixture, producer: AsyncDatabase[Document]
) -> None:
    # A row over the producer's 1 MiB request limit can never be sent: retrying it would
    # stop every later event and re-send the earlier ones forever.
    topic = f"test.outbox.stream.{uid()}"
    await create_topic(servers.kafka_bootstrap, topic)
    await create_topic(servers.kafka_bootstrap, f"{topic}.dlq")
    before = await commit(producer, topic, 1, 1)
    huge = tags_changed(WORKSPACE, 2, 1)

    async def work(session: AsyncClientSession) -> None:
        await Outbox(producer).add(session, topic=topic, key=message_key(WORKSPACE, 2),
                                   envelope=huge)

    await in_transaction(producer.client, work)
    await producer[OUTBOX].update_one({"_id": huge.id}, {"$set": {"value": b"x" * 1_200_000}})
    after = await commit(producer, topic, 3, 1)

    relay = relay_of(producer, servers)
    await relay.start()
    try:
        assert await relay.publish_pending() == 3
        assert await relay.publish_pending() == 0, "nothing left to retry"
    finally:
        await relay.stop()
    published = await read_topic(servers.kafka_bootstrap, topic, at_least=2)
    assert sorted(header(r, "ce_id") for r in published) == sorted([before, after])
    [letter] = await read_topic(servers.kafka_bootstrap, f"{topic}.dlq", at_least=1)
    assert header(letter, "ce_id") == huge.id
    assert header(letter, "x-error-kind") == "too-large"
    assert letter.value == b""
