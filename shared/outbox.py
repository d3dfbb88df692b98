"""Transactional outbox: a state change and its event commit together; a relay publishes them.

Writing: inside the service's MongoDB transaction, ``Outbox.add`` inserts the serialised
message with its Kafka key and a position ``at`` (nanoseconds). ``at`` is the clock, but
always after the previous message of the same key: a transaction that writes an entity's
event also writes the entity's document, so two events of one entity are committed one
after the other, and the second one sees the first when it takes its position. One
entity's messages are therefore in ``at`` order, whatever the clocks of the replicas
that wrote them. No global counter is taken, so transactions about different entities
never conflict. Rows are never written again: they expire ``RETENTION_S`` after they
were created (``OUTBOX_EXPIRY``, swept by the service: ``shared/retention.py``).

Publishing: one ``OutboxRelay`` per service (a lease document elects one when several
replicas run) tails the outbox with a MongoDB change stream: insert events, in commit
order, without gaps. It sends a batch with ``acks=all``, waits for the broker's
acknowledgements, then records in the lease document how far it got: the resume token of
the batch's last event and ``through``, a time before which every committed message has
been sent. One write per batch, however many messages. A crash between the send and the
record re-sends from the recorded token: delivery is at least once, and consumers
deduplicate by event id.

Catching up: a relay that has nothing recorded (first start), or whose token has left
the capped oplog, opens a stream first, then reads the rows it may have missed in one
snapshot (every row on a first start; else the rows created since ``through`` minus
``RESCAN_MARGIN``) and sends them in ``at`` order; the stream's events that the scan
already sent are skipped. A row committed after the scan's snapshot comes by the stream,
after every earlier row of its key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.read_concern import ReadConcern

from shared.contracts import Envelope
from shared.contracts.envelope import utcnow
from shared.kafka import dlq_topic
from shared.mongo import Document
from shared.observability import OUTBOX_BACKLOG, OUTBOX_PUBLISHED
from shared.replica import ReplicaIdentity
from shared.retention import Expiry, ensure_expiry_indexes

log = logging.getLogger(__name__)

OUTBOX = "outbox"
LEASES = "outbox_leases"
#: The lease document, which also holds the relay's position (never delete it).
LEASE_ID = "relay"
#: Outbox rows expire this long after they were written, sent or not.
RETENTION_S = 7 * 24 * 3600
#: Rows are kept a week (to look at, for a catch-up scan, as each key's last position).
OUTBOX_EXPIRY = Expiry(OUTBOX, "created_at", RETENTION_S)
#: A catch-up after a lost resume token re-reads rows created this long before ``through``:
#: longer than a transaction may live (60 s) plus any clock skew between replicas.
RESCAN_MARGIN = timedelta(minutes=10)
#: How long one read of the change stream waits for an event before saying "nothing new".
STREAM_AWAIT_MS = 20
#: A batch is sent once it is full, the stream has nothing more, or its first event is this old.
LINGER_S = 0.02
#: How often the backlog gauge is refreshed.
BACKLOG_EVERY_S = 1.0
#: Errors that say the recorded token cannot be resumed from (history lost, unreadable).
TOKEN_LOST = {9, 260, 280, 286}
#: Rows the first relay version had not marked sent (rows it had marked carry ``sent: True``).
NOT_MARKED_SENT: Document = {"sent": {"$ne": True}}
#: The relays of this process that may still publish, by owner (a dead one is not here).
_LIVE_RELAYS: weakref.WeakValueDictionary[str, OutboxRelay] = weakref.WeakValueDictionary()


def message_key(workspace_id: str, entity_id: object) -> str:
    """Kafka key of an entity's messages: workspace + entity id (ids are per workspace)."""
    return f"{workspace_id}:{entity_id}"


async def ensure_outbox_indexes(db: AsyncDatabase[Document]) -> None:
    """Create the outbox's indexes; drop those of the per-row ``sent`` flag it no longer has."""
    outbox = db[OUTBOX]
    await outbox.create_index([("key", ASCENDING), ("at", DESCENDING)])
    await ensure_expiry_indexes(db, [OUTBOX_EXPIRY])
    existing = await outbox.index_information()
    for name in ("sent_1_at_1", "sent_at_1"):
        if name in existing:
            with contextlib.suppress(OperationFailure):  # another replica dropped it first
                await outbox.drop_index(name)


async def pending_count(db: AsyncDatabase[Document]) -> int:
    """Messages committed but not yet published, as the relay's recorded position tells.

    Rows created after ``through``; a row whose transaction was still open at ``through``
    is not counted until then (a transient undercount, never an overcount of sent rows).
    """
    progress = await db[LEASES].find_one({"_id": LEASE_ID}, {"through": 1})
    through = (progress or {}).get("through")
    query = NOT_MARKED_SENT if through is None else {"created_at": {"$gt": through}}
    return await db[OUTBOX].count_documents(query)


class Outbox:
    """Writes messages into the service's outbox collection inside a caller's transaction."""

    def __init__(self, db: AsyncDatabase[Document], *, on_commit: Callable[[], None] | None = None):
        self._db = db
        self._on_commit = on_commit

    async def add(
        self, session: AsyncClientSession, *, topic: str, key: str, envelope: Envelope[Any]
    ) -> None:
        """Queue ``envelope`` for ``topic`` as part of ``session``'s transaction.

        The transaction must also write the document of the entity ``key`` names (see the
        module docstring): that is what keeps one entity's messages in order.
        """
        previous = await self._db[OUTBOX].find_one(
            {"key": key}, {"at": 1}, sort=[("at", DESCENDING)], session=session
        )
        at = time.time_ns()
        if previous is not None and previous["at"] >= at:
            at = previous["at"] + 1
        await self._db[OUTBOX].insert_one(
            {
                "_id": envelope.id,
                "at": at,
                "topic": topic,
                "key": key,
                "type": envelope.type,
                "value": envelope.model_dump_json().encode(),
                "created_at": utcnow(),
            },
            session=session,
        )

    async def add_many(
        self, session: AsyncClientSession, messages: Sequence[tuple[str, str, Envelope[Any]]]
    ) -> None:
        """Queue ``(topic, key, envelope)`` messages, in order, with one read and one write.

        Positions follow the same rule as ``add``: after the last committed row of the key
        (one aggregation over every key of the batch) and after the batch's earlier rows.
        """
        if not messages:
            return
        keys = list(dict.fromkeys(key for _, key, _ in messages))
        last: dict[str, int] = {
            row["_id"]: row["at"]
            async for row in await self._db[OUTBOX].aggregate(
                [
                    {"$match": {"key": {"$in": keys}}},
                    {"$sort": {"key": 1, "at": -1}},
                    {"$group": {"_id": "$key", "at": {"$first": "$at"}}},
                ],
                session=session,
            )
        }
        now, created = time.time_ns(), utcnow()
        rows = []
        for topic, key, envelope in messages:
            at = max(now, last.get(key, -1) + 1)
            last[key] = at
            rows.append({
                "_id": envelope.id, "at": at, "topic": topic, "key": key,
                "type": envelope.type, "value": envelope.model_dump_json().encode(),
                "created_at": created,
            })
        await self._db[OUTBOX].insert_many(rows, ordered=True, session=session)

    def committed(self) -> None:
        """Tell the relay that new messages are waiting (call after the commit)."""
        if self._on_commit is not None:
            self._on_commit()


AfterSend = Callable[[list[Document]], Awaitable[None]]


class _LeaseLost(Exception):
    """Another relay took the lease over: stop, it continues from the recorded position."""


class OutboxRelay:
    """Publishes the outbox to Kafka in commit order and records how far it got, per batch."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        bootstrap_servers: str,
        client_id: str,
        poll_interval_s: float = 0.5,
        batch_size: int = 500,
        lease_s: float = 10.0,
        after_send: AfterSend | None = None,
        identity: ReplicaIdentity | None = None,
    ):
        self._db = db
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._poll = poll_interval_s
        self._batch = batch_size
        self._lease = timedelta(seconds=lease_s)
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        #: The replica this relay runs for: a restarted process of the same replica takes
        #: the lease of its dead predecessor at once (``shared.replica``); without one, a
        #: dead holder's lease is waited out.
        self._identity = identity
        _LIVE_RELAYS[self._owner] = self
        #: Test hook: runs after the broker acknowledged a batch, before it is recorded.
        self._after_send = after_send
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._stream: AsyncChangeStream[Document] | None = None
        #: The lease document as this relay took it over (the position to continue from).
        self._progress: Document = {}
        #: Position reached while idle, recorded with the next lease renewal.
        self._idle: Document | None = None
        #: Ids the catch-up scan sent, skipped when the stream brings them again.
        self._scanned: set[Any] = set()
        #: The recorded token proved unusable: the next opening catches up with a scan.
        self._token_lost = False
        self._renew_at = 0.0
        self._backlog_at = 0.0
        self._sent = 0

    def notify(self) -> None:
        """Wake the relay now instead of at its next poll."""
        self._wake.set()

    async def start(self) -> None:
        """Connect the producer."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-outbox",
            acks="all",
            linger_ms=2,
            enable_idempotence=False,
        )
        await self._producer.start()

    async def stop(self) -> None:
        """Close the change stream, flush and close the producer."""
        _LIVE_RELAYS.pop(self._owner, None)
        await self._close_stream()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def run(self) -> None:
        """Relay forever: publish whatever is pending, then sleep until woken or polled."""
        while True:
            self._wake.clear()
            try:
                await self.publish_pending()
                await self._record_backlog()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed; retrying")
                await asyncio.sleep(self._poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def publish_pending(self) -> int:
        """Publish every committed message not sent yet (if this relay holds the lease);
        return how many were sent."""
        self._sent = 0
        if not await self._hold_lease():
            await self._close_stream()
            return 0
        try:
            if self._stream is None:
                await self._open()
            await self._drain()
        except _LeaseLost:
            log.warning("outbox relay %s lost its lease; another replica publishes", self._owner)
            await self._close_stream()
        except OperationFailure as error:
            # History lost while tailing (the relay fell a whole oplog behind): scan next time.
            self._token_lost = self._token_lost or error.code in TOKEN_LOST
            await self._close_stream()
            raise
        except BaseException:
            await self._close_stream()  # what the stream gave and was not recorded is re-read
            raise
        return self._sent

    # ------------------------------------------------------------- the stream

    async def _open(self) -> None:
        """Resume the stream after the recorded token; without one, catch up with a scan."""
        token, through = self._progress.get("token"), self._progress.get("through")
        if token is not None and not self._token_lost:
            try:
                self._stream = await self._watch(resume_after=token)
                return
            except OperationFailure as error:
                if error.code not in TOKEN_LOST:
                    raise
                log.warning("outbox relay: resume token lost (%s); scanning rows since %s",
                            error.code, through)
        opened_at = utcnow()
        self._stream = await self._watch()
        start = self._stream.resume_token
        query = dict(NOT_MARKED_SENT)
        if through is not None:
            query["created_at"] = {"$gte": through - RESCAN_MARGIN}
        rows = await self._snapshot(query)
        self._scanned = {row["_id"] for row in rows}
        for first in range(0, len(rows), self._batch):
            await self._publish(rows[first:first + self._batch])
            if time.monotonic() >= self._renew_at:
                await self._record({})
        await self._record({"token": start, "through": opened_at})
        self._token_lost = False

    async def _watch(self, **resume: Any) -> AsyncChangeStream[Document]:
        return await self._db[OUTBOX].watch(
            [{"$match": {"operationType": "insert"}}],
            batch_size=self._batch, max_await_time_ms=STREAM_AWAIT_MS, **resume,
        )

    async def _snapshot(self, query: Document) -> list[Document]:
        """The rows matching ``query`` in ``at`` order, read from one snapshot."""
        async with (
            self._db.client.start_session() as session,
            await session.start_transaction(read_concern=ReadConcern("snapshot")),
        ):
            return await (
                self._db[OUTBOX].find(query, session=session)
                .sort([("at", ASCENDING), ("_id", ASCENDING)])
            ).to_list()

    async def _drain(self) -> None:
        """Send the stream's events batch by batch until it has nothing more right now."""
        while True:
            batch, progress, caught_up = await self._read_batch()
            if batch:
                await self._publish(batch)
                await self._record(progress)
                self._idle = None
            elif progress != self._progress_recorded():
                self._idle = progress  # recorded with the next renewal: no write while idle
            if caught_up:
                return

    async def _read_batch(self) -> tuple[list[Document], Document, bool]:
        """Events up to a batch, the position after them, and whether the stream ran dry."""
        assert self._stream is not None
        batch: list[Document] = []
        progress: Document = self._progress_recorded()
        send_by = 0.0
        while len(batch) < self._batch:
            asked_at = utcnow()
            event = await self._stream.try_next()
            if event is None:  # every event committed before ``asked_at`` has come by
                self._scanned.clear()
                return batch, {"token": self._stream.resume_token, "through": asked_at}, True
            progress = {"token": event["_id"], "through": event.get("wallTime") or asked_at}
            doc = event["fullDocument"]
            if doc["_id"] in self._scanned:
                continue
            batch.append(doc)
            if len(batch) == 1:
                send_by = time.monotonic() + LINGER_S
            elif time.monotonic() >= send_by:
                break
        return batch, progress, False

    def _progress_recorded(self) -> Document:
        return {"token": self._progress.get("token"), "through": self._progress.get("through")}

    async def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        self._scanned, self._idle = set(), None
        if stream is not None:
            with contextlib.suppress(PyMongoError):
                await stream.close()

    # ------------------------------------------------------------- Kafka

    async def _publish(self, batch: list[Document]) -> None:
        await self._send(batch)
        if self._after_send is not None:
            await self._after_send(batch)
        OUTBOX_PUBLISHED.labels(service=self._client_id).inc(len(batch))
        self._sent += len(batch)

    async def _send(self, batch: list[Document]) -> None:
        assert self._producer is not None, "relay not started"
        acks = []
        for doc in batch:
            headers = [("ce_type", doc["type"].encode()), ("ce_id", str(doc["_id"]).encode())]
            try:
                acks.append(
                    await self._producer.send(
                        doc["topic"], value=bytes(doc["value"]), key=doc["key"].encode(),
                        headers=headers,
                    )
                )
            except MessageSizeTooLargeError as exc:
                # Never sendable: retrying it would stop every later event of the service
                # and re-send the ones before it forever. A record without the value goes
                # to the topic's DLQ (the row stays in the outbox for the retention time).
                log.error("outbox row %s (%s, key %s) is too large to publish: %s",
                          doc["_id"], doc["type"], doc["key"], exc)
                acks.append(
                    await self._producer.send(
                        dlq_topic(doc["topic"]), value=b"", key=doc["key"].encode(),
                        headers=[*headers, ("x-error", f"too large: {exc}"[:500].encode()),
                                 ("x-error-kind", b"too-large"),
                                 ("x-original-topic", doc["topic"].encode())],
                    )
                )
        await asyncio.gather(*acks)

    # ------------------------------------------------------------- lease and position

    async def _hold_lease(self) -> bool:
        """Take or renew the relay lease; only its holder publishes (one relay per service)."""
        if self._stream is not None and time.monotonic() < self._renew_at:
            return True
        now = utcnow()
        update: Document = {"owner": self._owner, "expires_at": now + self._lease}
        if self._identity is not None:
            update.update(self._identity.holder_fields())
        if self._stream is not None and self._idle is not None:
            update.update(self._idle)
        try:
            before = await self._db[LEASES].find_one_and_update(
                {"_id": LEASE_ID, "$or": [{"owner": self._owner}, {"expires_at": {"$lt": now}}]},
                {"$set": update},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:  # another owner's lease runs: ours only if that one is dead
            before = await self._take_from_dead_holder(update)
            if before is None:
                return False
        self._renew_at = time.monotonic() + self._lease.total_seconds() / 3
        if before is None or before.get("owner") != self._owner:
            self._token_lost = False  # the last holder may have recorded a newer one
        if before is None or before.get("owner") != self._owner or self._stream is None:
            await self._close_stream()  # continue from what the last holder recorded
            self._progress = before or {}
        else:
            self._progress.update(update)
            self._idle = None
        return True

    async def _take_from_dead_holder(self, update: Document) -> Document | None:
        """Take the lease from a holder proven to be a dead process of this replica
        (``shared.replica``); the lease as it was, or None (not proven, or taken meanwhile)."""
        if self._identity is None:
            return None
        holder = await self._db[LEASES].find_one({"_id": LEASE_ID})
        if holder is None or not self._identity.holder_gone(holder, live_owners=set(_LIVE_RELAYS)):
            return None
        before: Document | None = await self._db[LEASES].find_one_and_update(
            {"_id": LEASE_ID, "owner": holder["owner"]},  # only if nobody took it meanwhile
            {"$set": update},
            return_document=ReturnDocument.BEFORE,
        )
        if before is not None:
            log.info("outbox relay %s took the lease of %s back (its process is gone)",
                     self._owner, holder["owner"])
        return before

    async def _record(self, progress: Document) -> None:
        """Renew the lease and record ``progress`` (token, through), if the lease is still ours."""
        result = await self._db[LEASES].update_one(
            {"_id": LEASE_ID, "owner": self._owner},
            {"$set": {**progress, "expires_at": utcnow() + self._lease}},
        )
        if result.matched_count == 0:
            raise _LeaseLost
        self._renew_at = time.monotonic() + self._lease.total_seconds() / 3
        self._progress.update(progress)

    async def release(self) -> None:
        """Give the lease up so another replica can take over at once (the position stays)."""
        await self._close_stream()
        await self._db[LEASES].update_one(
            {"_id": LEASE_ID, "owner": self._owner},
            {"$set": {"expires_at": utcnow() - self._lease}},
        )

    async def _record_backlog(self) -> None:
        if time.monotonic() < self._backlog_at:
            return
        self._backlog_at = time.monotonic() + BACKLOG_EVERY_S
        OUTBOX_BACKLOG.labels(service=self._client_id).set(await pending_count(self._db))
