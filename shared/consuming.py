"""Idempotent consumption with a dead-letter topic, the one way every service consumes Kafka.

A subscriber is: bytes → typed envelope (the contract registry) → a handler that runs in
the service's unit of work (``shared.unit_of_work``), the same one its HTTP use cases use.
Two shapes, with the same guarantees per message:

- ``register_consumer``: one message, one transaction.
- ``register_batch_consumer``: up to ``max_records`` messages, one transaction for all of
  them (their processed-message records and their writes in bulk). A batch that fails is
  split in two and each half applied on its own, down to the one message that fails: that
  one goes to the DLQ alone, the rest apply, in their order.

Guarantees, per message:

- Bytes that are not a valid envelope of a known type go to ``<topic>.dlq`` at once.
- A message is applied at most once per consumer group: its id is recorded in
  ``processed_messages`` in the same transaction as its effects; a redelivered one is
  skipped (``outcome=duplicate``).
- A handler that keeps failing (``attempts`` tries) sends the message to the DLQ and the
  consumer moves on. A database outage is not the message's fault: it is raised instead,
  the offsets are not committed (a batch rewinds every partition it read) and the
  messages come back; so they do when even the DLQ cannot be written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from pymongo.errors import (
    ConnectionFailure,
    ExecutionTimeout,
    NotPrimaryError,
    OperationFailure,
    PyMongoError,
    WTimeoutError,
)

from shared.contracts import Envelope, UnknownMessageType, parse
from shared.kafka import dlq_topic
from shared.logs import event_id_var
from shared.observability import HANDLER_LATENCY, MESSAGES_HANDLED
from shared.settings import KafkaSettings
from shared.unit_of_work import AlreadyProcessed, Transaction, UnitOfWork

log = logging.getLogger(__name__)

#: Server answers that say "too slow / too busy now" (MaxTimeMSExpired, ExceededTimeLimit):
#: like an outage, the messages are not at fault and come back later.
_SERVER_BUSY_CODES = frozenset({50, 262})
#: Pause before messages are handed back for redelivery because the database is away.
OUTAGE_BACKOFF_S = 1.0

#: Applies one message inside the unit of work's transaction (and may publish events there).
MessageHandler = Callable[[Envelope[Any], Transaction], Awaitable[None]]
#: Applies several messages, in order, inside one transaction.
BatchHandler = Callable[[Sequence[Envelope[Any]], Transaction], Awaitable[None]]


class ConsumerUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that can also tell which messages its consumer already applied."""

    async def already_processed(self, message_ids: Sequence[str]) -> set[str]:
        """The ids among ``message_ids`` that are recorded as processed."""
        ...


def one_by_one(handler: MessageHandler) -> BatchHandler:
    """A batch handler that applies each message with ``handler``, in order, in one transaction."""

    async def apply(envelopes: Sequence[Envelope[Any]], tx: Transaction) -> None:
        for envelope in envelopes:
            await handler(envelope, tx)

    return apply


class _Consumer:
    """What both subscriber shapes share: parsing, applying, retries, dead letters, metrics."""

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        service: str,
        uow: ConsumerUnitOfWork,
        topic: str,
        group_id: str,
        attempts: int,
    ):
        self.broker = broker
        self.service = service
        self.uow = uow
        self.topic = topic
        self.group_id = group_id
        self.attempts = attempts

    def parse(self, record: Any) -> Envelope[Any] | Exception:
        """The typed envelope of a record, or why it is not one."""
        try:
            return parse(record.value or b"")
        except (ValidationError, UnknownMessageType, ValueError) as exc:
            return exc

    async def dead_letter(self, record: Any, error: BaseException, kind: str) -> None:
        """Send a record to the DLQ with the error and where it came from, in headers."""
        headers = {
            "x-error": f"{type(error).__name__}: {error}"[:2000],
            "x-error-kind": kind,
            "x-original-topic": self.topic,
            "x-original-partition": str(getattr(record, "partition", "")),
            "x-original-offset": str(getattr(record, "offset", "")),
            "x-consumer-group": self.group_id,
        }
        await self.broker.publish(
            record.value or b"", topic=dlq_topic(self.topic), key=getattr(record, "key", None),
            headers=headers,
        )
        log.warning("message sent to %s: %s", dlq_topic(self.topic), headers["x-error"])

    def count(self, type_: str, outcome: str, n: int = 1) -> None:
        """Count handled messages by type and outcome."""
        MESSAGES_HANDLED.labels(self.service, self.topic, type_, outcome).inc(n)

    async def apply(
        self, records: Sequence[tuple[Any, Envelope[Any]]], handler: BatchHandler
    ) -> None:
        """Apply records in one transaction; split on failure down to the failing one."""
        try:
            await self._commit(records, handler)
            for _, envelope in records:
                self.count(envelope.type, "ok")
            return
        except AlreadyProcessed:  # another member applied some of them meanwhile (rebalance)
            fresh = await self._not_processed(records)
            if len(fresh) < len(records):
                for _, envelope in records:
                    if all(envelope.id != e.id for _, e in fresh):
                        self.count(envelope.type, "duplicate")
                if fresh:
                    await self.apply(fresh, handler)
                return
            error: BaseException = RuntimeError("message recorded and not recorded")
        except PyMongoError as exc:
            if _is_outage(exc):
                raise await self._outage(exc) from exc
            error = exc
        except Exception as exc:  # the handler failed: find the message at fault
            error = exc
        if len(records) > 1:
            middle = len(records) // 2
            await self.apply(records[:middle], handler)
            await self.apply(records[middle:], handler)
            return
        await self._retry_or_dead_letter(records[0], handler, error)

    async def _retry_or_dead_letter(
        self, item: tuple[Any, Envelope[Any]], handler: BatchHandler, error: BaseException
    ) -> None:
        record, envelope = item
        for attempt in range(1, self.attempts):
            log.warning("handling %s failed (attempt %d): %r", envelope.type, attempt, error)
            await asyncio.sleep(0.05 * 2 ** (attempt - 1))
            try:
                await self._commit([item], handler)
                self.count(envelope.type, "ok")
                return
            except AlreadyProcessed:
                self.count(envelope.type, "duplicate")
                return
            except PyMongoError as exc:
                if _is_outage(exc):
                    raise await self._outage(exc) from exc
                error = exc
            except Exception as exc:
                error = exc
        log.warning("handling %s failed (attempt %d): %r", envelope.type, self.attempts, error)
        await self.dead_letter(record, error, "processing")
        self.count(envelope.type, "dlq")

    async def _commit(
        self, records: Sequence[tuple[Any, Envelope[Any]]], handler: BatchHandler
    ) -> None:
        envelopes = [envelope for _, envelope in records]
        token = event_id_var.set(envelopes[0].id if len(envelopes) == 1 else "batch")
        try:
            await self.uow.run(
                lambda tx: handler(envelopes, tx), message_ids=[e.id for e in envelopes]
            )
        finally:
            event_id_var.reset(token)

    async def _not_processed(
        self, records: Sequence[tuple[Any, Envelope[Any]]]
    ) -> list[tuple[Any, Envelope[Any]]]:
        done = await self.uow.already_processed([e.id for _, e in records])
        return [(r, e) for r, e in records if e.id not in done]

    async def _outage(self, exc: PyMongoError) -> PyMongoError:
        log.warning("database unavailable on %s: %r; messages come back", self.topic, exc)
        await asyncio.sleep(OUTAGE_BACKOFF_S)
        return exc

    async def receive(self, records: Sequence[Any], handler: BatchHandler) -> None:
        """Parse records, dead-letter the invalid ones, skip the known ones, apply the rest."""
        started = time.perf_counter()
        valid: list[tuple[Any, Envelope[Any]]] = []
        seen: set[str] = set()
        for record in records:
            parsed = self.parse(record)
            if isinstance(parsed, Exception):
                await self.dead_letter(record, parsed, "invalid")
                self.count("invalid", "dlq")
            elif parsed.id in seen:  # the same message twice in one batch
                self.count(parsed.type, "duplicate")
            else:
                seen.add(parsed.id)
                valid.append((record, parsed))
        if len(valid) > 1:  # one indexed read instead of a failed transaction per replay
            fresh = await self._not_processed(valid)
            for _, envelope in valid:
                if all(envelope.id != e.id for _, e in fresh):
                    self.count(envelope.type, "duplicate")
            valid = fresh
        try:
            if valid:
                await self.apply(valid, handler)
        finally:
            HANDLER_LATENCY.labels(self.service, self.topic).observe(time.perf_counter() - started)


def register_consumer(
    broker: KafkaBroker,
    *,
    service: str,
    settings: KafkaSettings,
    uow: ConsumerUnitOfWork,
    topic: str,
    group_id: str,
    handler: MessageHandler,
    attempts: int = 3,
    description: str | None = None,
) -> None:
    """Subscribe ``handler`` to ``topic`` in group ``group_id``: one message per transaction."""
    consumer = _Consumer(broker, service=service, uow=uow, topic=topic, group_id=group_id,
                         attempts=attempts)
    batch = one_by_one(handler)

    @broker.subscriber(topic, **_group_options(settings, topic=topic, group_id=group_id,
                                               description=description))
    async def on_message(msg: KafkaMessage) -> None:
        await consumer.receive([msg.raw_message], batch)


def register_batch_consumer(
    broker: KafkaBroker,
    *,
    service: str,
    settings: KafkaSettings,
    uow: ConsumerUnitOfWork,
    topic: str,
    group_id: str,
    handler: BatchHandler,
    max_records: int = 100,
    batch_timeout_ms: int = 50,
    attempts: int = 3,
    description: str | None = None,
) -> None:
    """Subscribe ``handler`` to ``topic`` in group ``group_id``: up to ``max_records`` messages
    per transaction (whatever the broker has ready within ``batch_timeout_ms``)."""
    consumer = _Consumer(broker, service=service, uow=uow, topic=topic, group_id=group_id,
                         attempts=attempts)

    @broker.subscriber(
        topic, batch=True, max_records=max_records, batch_timeout_ms=batch_timeout_ms,
        **_group_options(settings, topic=topic, group_id=group_id, description=description),
    )
    async def on_batch(msg: KafkaMessage) -> None:
        records = msg.raw_message
        await consumer.receive(records if isinstance(records, tuple) else [records], handler)


def _group_options(
    settings: KafkaSettings, *, topic: str, group_id: str, description: str | None
) -> dict[str, Any]:
    """How every subscriber joins its group: from the start, offsets committed after handling."""
    return {
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "title": f"{group_id}:{topic}",
        "description": description,
    }


def _is_outage(exc: PyMongoError) -> bool:
    """Errors that say the database is unreachable or busy rather than the message is bad."""
    if isinstance(exc, ConnectionFailure | NotPrimaryError | ExecutionTimeout | WTimeoutError):
        return True
    return exc.has_error_label("TransientTransactionError") or (
        isinstance(exc, OperationFailure) and exc.code in _SERVER_BUSY_CODES
    )
