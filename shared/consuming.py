"""Idempotent consumption with a dead-letter topic, the one way every service consumes Kafka.

- A message is parsed through the contract registry. Bytes that are not a valid
  envelope of a known type go to ``<topic>.dlq`` at once, with the error.
- The handler runs inside a MongoDB transaction that also records the message
  id in the consumer's ``processed_messages`` collection: a redelivered message
  finds its id there and is skipped, so handling is exactly-once in effect.
- A handler that keeps failing (``attempts`` tries) sends the message to the DLQ
  and the consumer moves on. A database outage is not the message's fault: it is
  raised instead, the offset is not committed and the message comes back; so it
  does when even the DLQ cannot be written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, NotPrimaryError, PyMongoError

from shared.contracts import Envelope, UnknownMessageType, parse
from shared.contracts.envelope import utcnow
from shared.kafka import dlq_topic
from shared.logs import event_id_var
from shared.mongo import Document
from shared.observability import HANDLER_LATENCY, MESSAGES_HANDLED
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

PROCESSED = "processed_messages"
PROCESSED_RETENTION_S = 14 * 24 * 3600
#: Pause before a message is handed back for redelivery because the database is away.
OUTAGE_BACKOFF_S = 1.0

#: A handler applies one message inside the given transaction (and may write the outbox there).
Handler = Callable[[Envelope[Any], AsyncClientSession], Awaitable[None]]


class _AlreadyProcessed(Exception):
    """The message id is recorded: a redelivery."""


async def handle_once(
    *,
    client: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    consumer: str,
    envelope: Envelope[Any],
    handler: Handler,
) -> bool:
    """Apply ``envelope`` with ``handler`` unless ``consumer`` already did; True if applied."""

    async def work(session: AsyncClientSession) -> None:
        try:
            await db[PROCESSED].insert_one(
                {"_id": f"{consumer}:{envelope.id}", "type": envelope.type, "at": utcnow()},
                session=session,
            )
        except DuplicateKeyError as exc:
            raise _AlreadyProcessed from exc
        await handler(envelope, session)

    async with client.start_session() as session:
        try:
            await session.with_transaction(work)
        except _AlreadyProcessed:
            return False
    return True


def register_consumer(
    broker: KafkaBroker,
    *,
    service: str,
    settings: KafkaSettings,
    client: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    topic: str,
    group_id: str,
    handler: Handler,
    attempts: int = 3,
    description: str | None = None,
) -> None:
    """Subscribe ``handler`` to ``topic`` in consumer group ``group_id`` (before broker start)."""

    async def dead_letter(msg: KafkaMessage, error: BaseException, kind: str) -> None:
        record = msg.raw_message
        headers = {
            "x-error": f"{type(error).__name__}: {error}"[:2000],
            "x-error-kind": kind,
            "x-original-topic": topic,
            "x-original-partition": str(getattr(record, "partition", "")),
            "x-original-offset": str(getattr(record, "offset", "")),
            "x-consumer-group": group_id,
        }
        key = getattr(record, "key", None)
        await broker.publish(msg.body, topic=dlq_topic(topic), key=key, headers=headers)
        log.warning("message sent to %s: %s", dlq_topic(topic), headers["x-error"])

    @broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{group_id}:{topic}",
        description=description,
    )
    async def on_message(msg: KafkaMessage) -> None:
        started = time.perf_counter()
        try:
            envelope = parse(msg.body)
        except (ValidationError, UnknownMessageType, ValueError) as exc:
            await dead_letter(msg, exc, "invalid")
            MESSAGES_HANDLED.labels(service, topic, "invalid", "dlq").inc()
            return
        token = event_id_var.set(envelope.id)
        try:
            outcome = await _apply_with_retries(
                client=client, db=db, consumer=group_id, envelope=envelope,
                handler=handler, attempts=attempts,
            )
            if isinstance(outcome, BaseException):
                await dead_letter(msg, outcome, "processing")
                MESSAGES_HANDLED.labels(service, topic, envelope.type, "dlq").inc()
            else:
                MESSAGES_HANDLED.labels(
                    service, topic, envelope.type, "ok" if outcome else "duplicate"
                ).inc()
        finally:
            event_id_var.reset(token)
            HANDLER_LATENCY.labels(service, topic).observe(time.perf_counter() - started)


async def _apply_with_retries(
    *,
    client: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    consumer: str,
    envelope: Envelope[Any],
    handler: Handler,
    attempts: int,
) -> bool | BaseException:
    """Applied (True), duplicate (False), or the last error after ``attempts`` failures."""
    last: BaseException | None = None
    for attempt in range(attempts):
        try:
            return await handle_once(
                client=client, db=db, consumer=consumer, envelope=envelope, handler=handler
            )
        except PyMongoError as exc:
            if not _is_outage(exc):
                last = exc
            else:  # the database is away, not the message's fault: redeliver it later
                log.warning("database unavailable handling %s: %r", envelope.type, exc)
                await asyncio.sleep(OUTAGE_BACKOFF_S)
                raise
        except Exception as exc:  # any other failure is retried, then dead-lettered
            last = exc
            log.warning("handling %s failed (attempt %d): %r", envelope.type, attempt + 1, exc)
            await asyncio.sleep(0.05 * 2**attempt)
    assert last is not None
    return last


def _is_outage(exc: PyMongoError) -> bool:
    """Errors that say the database is unreachable or busy rather than the message is bad."""
    return isinstance(exc, ConnectionFailure | NotPrimaryError) or exc.has_error_label(
        "TransientTransactionError"
    )


async def ensure_consumer_indexes(db: AsyncDatabase[Document]) -> None:
    """Processed-message records expire after two weeks, far beyond any redelivery."""
    await db[PROCESSED].create_index("at", expireAfterSeconds=PROCESSED_RETENTION_S)
