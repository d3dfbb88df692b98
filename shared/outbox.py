"""Transactional outbox: a state change and its event commit together; a relay publishes them.

Writing: inside the service's MongoDB transaction, ``Outbox.add`` inserts the serialised
message with its Kafka key and a position ``at`` (nanoseconds). ``at`` is the clock, but
always after the previous message of the same key: a transaction that writes an entity's
event also writes the entity's document, so two events of one entity are committed one
after the other, and the second one sees the first when it takes its position. One
entity's messages are therefore in ``at`` order, whatever the clocks of the replicas
that wrote them. No global counter is taken, so transactions about different entities
never conflict.

Publishing: one ``OutboxRelay`` per service (a lease document elects one when several
replicas run) sends the pending messages in ``at`` order with ``acks=all``, waits for
the broker's acknowledgements, then marks them sent. When the relay sees a message,
every earlier message of its key is committed and either sent or in the same batch.
A crash between the send and the mark re-sends the batch on restart: delivery is at
least once, and consumers deduplicate by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.contracts import Envelope
from shared.contracts.envelope import utcnow
from shared.mongo import Document
from shared.observability import OUTBOX_BACKLOG, OUTBOX_PUBLISHED

log = logging.getLogger(__name__)

OUTBOX = "outbox"
LEASES = "outbox_leases"
SENT_RETENTION_S = 7 * 24 * 3600


def message_key(workspace_id: str, entity_id: object) -> str:
    """Kafka key of an entity's messages: workspace + entity id (ids are per workspace)."""
    return f"{workspace_id}:{entity_id}"


async def ensure_outbox_indexes(db: AsyncDatabase[Document]) -> None:
    """Create the indexes the relay reads pending messages with."""
    await db[OUTBOX].create_index([("sent", ASCENDING), ("at", ASCENDING)])
    await db[OUTBOX].create_index([("key", ASCENDING), ("at", DESCENDING)])
    # Sent rows are kept a week (to look at, and as each key's last position), then expire.
    await db[OUTBOX].create_index("sent_at", expireAfterSeconds=SENT_RETENTION_S)


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
                "sent": False,
            },
            session=session,
        )

    def committed(self) -> None:
        """Tell the relay that new messages are waiting (call after the commit)."""
        if self._on_commit is not None:
            self._on_commit()


AfterSend = Callable[[list[Document]], Awaitable[None]]


class OutboxRelay:
    """Publishes the outbox to Kafka in sequence order and marks what the broker acknowledged."""

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
    ):
        self._db = db
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._poll = poll_interval_s
        self._batch = batch_size
        self._lease = timedelta(seconds=lease_s)
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        #: Test hook: runs after the broker acknowledged a batch, before it is marked sent.
        self._after_send = after_send
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None

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
        """Flush and close the producer."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def run(self) -> None:
        """Relay forever: publish whatever is pending, then sleep until woken or polled."""
        while True:
            try:
                sent = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed; retrying")
                sent = 0
                await asyncio.sleep(self._poll)
            if sent == 0:
                await self._record_backlog()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def publish_pending(self) -> int:
        """Publish every pending message once (if this relay holds the lease); return the count."""
        total = 0
        while True:
            if not await self._hold_lease():  # renewed per batch: a long backlog keeps it
                return total
            batch = await (
                self._db[OUTBOX].find({"sent": False}).sort("at", ASCENDING).limit(self._batch)
            ).to_list()
            if not batch:
                return total
            await self._send(batch)
            if self._after_send is not None:
                await self._after_send(batch)
            await self._db[OUTBOX].update_many(
                {"_id": {"$in": [doc["_id"] for doc in batch]}},
                {"$set": {"sent": True, "sent_at": utcnow()}},
            )
            OUTBOX_PUBLISHED.labels(service=self._client_id).inc(len(batch))
            total += len(batch)
            if len(batch) < self._batch:
                return total
            await self._record_backlog()

    async def _send(self, batch: list[Document]) -> None:
        assert self._producer is not None, "relay not started"
        acks = []
        for doc in batch:
            headers = [("ce_type", doc["type"].encode()), ("ce_id", str(doc["_id"]).encode())]
            acks.append(
                await self._producer.send(
                    doc["topic"], value=bytes(doc["value"]), key=doc["key"].encode(),
                    headers=headers,
                )
            )
        await asyncio.gather(*acks)

    async def _hold_lease(self) -> bool:
        """Take or renew the relay lease; only its holder publishes (one relay per service)."""
        now = utcnow()
        try:
            doc = await self._db[LEASES].find_one_and_update(
                {"_id": "relay", "$or": [{"owner": self._owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self._owner, "expires_at": now + self._lease}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False
        return doc is not None and doc["owner"] == self._owner

    async def release(self) -> None:
        """Give the lease up so another replica can take over at once."""
        await self._db[LEASES].delete_one({"_id": "relay", "owner": self._owner})

    async def _record_backlog(self) -> None:
        pending = await self._db[OUTBOX].count_documents({"sent": False})
        OUTBOX_BACKLOG.labels(service=self._client_id).set(pending)
