"""One unit of work for every entry point: an HTTP use case, a Kafka subscriber, a batch.

A handler is a function of (command, unit of work). It calls ``uow.run(work)``; ``work``
receives a ``Transaction`` — the database session and the event outbox of one attempt —
and may run more than once (transient conflicts are retried), so it must only read and
write through the transaction. Whatever commits, commits together:

- the state change and the events it publishes (the outbox rows);
- ``message_ids``: the consumer's processed-message records (a redelivered message, or a
  batch that holds one already applied, raises ``AlreadyProcessed`` before any work runs);
- an idempotency record (``run_idempotent``): an ``Idempotency-Key`` of a public request
  with the answer it got, so the same key replays that answer and does nothing again.

``MongoUnitOfWork`` is the one implementation the services run; tests may substitute any
object with the same ``run`` / ``run_idempotent`` methods (see ``tests/support``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.contracts import Envelope
from shared.contracts.envelope import utcnow
from shared.mongo import Document
from shared.outbox import Outbox
from shared.retention import Expiry, ensure_expiry_indexes

T = TypeVar("T")

PROCESSED = "processed_messages"
IDEMPOTENCY = "idempotency_keys"
PROCESSED_RETENTION_S = 14 * 24 * 3600
#: How long an ``Idempotency-Key`` replays its first answer (DESIGN §4: 24 hours).
IDEMPOTENCY_RETENTION = timedelta(hours=24)
#: The header a public request names its key in.
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: What the unit of work writes that expires (swept by the service: ``shared/retention.py``).
UNIT_OF_WORK_EXPIRIES = (
    Expiry(PROCESSED, "at", PROCESSED_RETENTION_S),
    Expiry(IDEMPOTENCY, "expires_at"),
)
_KEY_SHAPE = re.compile(r"[\x20-\x7e]{1,255}")

Answer = dict[str, Any]


class Transaction(Protocol):
    """What one attempt of a unit of work sees: its database session and its outbox."""

    @property
    def session(self) -> Any:
        """The session every read and write of the attempt passes on (opaque to handlers)."""
        ...

    async def publish(self, *, topic: str, key: str, envelope: Envelope[Any]) -> None:
        """Queue ``envelope`` for ``topic``; it is published only if the attempt commits."""
        ...


class AlreadyProcessed(Exception):
    """One of the unit of work's message ids is recorded: a redelivery; nothing was done."""

    def __init__(self, message_ids: Sequence[str]):
        super().__init__(f"already processed: {', '.join(message_ids)}")
        self.message_ids = list(message_ids)


class IdempotencyKeyReused(Exception):
    """An ``Idempotency-Key`` came back with another request than the one it first carried."""


@dataclass(frozen=True)
class IdempotencyKey:
    """One public request's ``Idempotency-Key``, scoped to its workspace, and what it asked."""

    workspace_id: str
    key: str
    #: A digest of the request (method, path, body): the same key with another request is 422.
    fingerprint: str

    @property
    def record_id(self) -> str:
        """The record's ``_id``: keys of two workspaces never meet."""
        return f"{self.workspace_id}:{self.key}"


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    """A stable digest of a request, for ``IdempotencyKey.fingerprint``."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_idempotency_key(value: str) -> str:
    """``value`` if it is a valid ``Idempotency-Key`` (1-255 printable ASCII characters), else
    ``ValueError`` with a message naming the header and the value."""
    if _KEY_SHAPE.fullmatch(value) is None:
        raise ValueError(f"{IDEMPOTENCY_HEADER}: {value[:300]!r} is not 1-255 printable "
                         "ASCII characters")
    return value


class UnitOfWork(Protocol):
    """Runs work all-or-nothing, with its events, message records and idempotency record."""

    async def run(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        message_ids: Sequence[str] = (),
    ) -> T:
        """Run ``work`` in one transaction; ``AlreadyProcessed`` if a message id is recorded."""
        ...

    async def run_idempotent(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        key: IdempotencyKey,
        answer: Callable[[T], Answer],
    ) -> tuple[Answer, bool]:
        """Run ``work`` once per key: (the answer, True when it is a replay of the first one)."""
        ...

    async def recall(self, key: IdempotencyKey) -> Answer | None:
        """The answer stored under ``key``, if any (``IdempotencyKeyReused`` if it differs)."""
        ...


class IdempotentReplay(Exception):
    """The key of a ``KeyedUnitOfWork`` had an answer stored meanwhile: answer that one."""

    def __init__(self, answer: Answer):
        super().__init__("replay of a stored answer")
        self.answer = answer


class KeyedUnitOfWork:
    """A unit of work for ONE command of a public request that carries an ``Idempotency-Key``.

    Its ``run`` is the inner unit of work's ``run_idempotent``: the command's change, its
    events and the key with ``answer(result)`` commit together. When a concurrent request
    with the same key committed first, ``run`` raises ``IdempotentReplay`` with that
    request's answer (this one's change rolled back whole). So it does when this request's
    work failed (a 409 because its twin created the same name first, say) and the key has
    an answer by then: the twin's answer is this request's too. A handler that runs more
    than one unit of work cannot be keyed this way (``run`` refuses a second call).
    """

    def __init__(self, inner: UnitOfWork, *, key: IdempotencyKey,
                 answer: Callable[[Any], Answer]):
        self._inner = inner
        self._key = key
        self._answer = answer
        self._ran = False

    async def run(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        message_ids: Sequence[str] = (),
    ) -> T:
        """Run ``work`` with the key's record; ``IdempotentReplay`` if another request won."""
        if self._ran or message_ids:
            raise RuntimeError("a keyed unit of work runs one command of a public request once")
        self._ran = True
        results: list[T] = []

        async def keep(tx: Transaction) -> T:
            result = await work(tx)
            results[:] = [result]
            return result

        try:
            given, replayed = await self._inner.run_idempotent(keep, key=self._key,
                                                               answer=self._answer)
        except IdempotencyKeyReused:
            raise
        except Exception:
            twin = None
            with contextlib.suppress(Exception):  # the store away: the first failure stands
                twin = await self._inner.recall(self._key)  # did a twin with the key win?
            if twin is None:
                raise
            raise IdempotentReplay(twin) from None
        if replayed:
            raise IdempotentReplay(given)
        return results[0]

    async def run_idempotent(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        key: IdempotencyKey,
        answer: Callable[[T], Answer],
    ) -> tuple[Answer, bool]:
        """The inner unit of work's ``run_idempotent``."""
        return await self._inner.run_idempotent(work, key=key, answer=answer)

    async def recall(self, key: IdempotencyKey) -> Answer | None:
        """The inner unit of work's ``recall``."""
        return await self._inner.recall(key)


class _MongoTransaction:
    """One attempt of a MongoDB unit of work; its events are written together at the end."""

    def __init__(self, session: AsyncClientSession, outbox: Outbox):
        self._session = session
        self._outbox = outbox
        self._pending: list[tuple[str, str, Envelope[Any]]] = []
        self.published = 0

    @property
    def session(self) -> AsyncClientSession:
        return self._session

    async def publish(self, *, topic: str, key: str, envelope: Envelope[Any]) -> None:
        self._pending.append((topic, key, envelope))

    async def flush(self) -> None:
        """Write the queued events into the outbox (one read, one write), in this attempt."""
        await self._outbox.add_many(self._session, self._pending)
        self.published += len(self._pending)
        self._pending = []


class MongoUnitOfWork:
    """The unit of work of one service's MongoDB database and outbox."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        outbox: Outbox,
        *,
        consumer: str = "",
    ):
        self._client = client
        self._db = db
        self._outbox = outbox
        #: Prefix of processed-message ids (the consumer group), so two groups sharing a
        #: database never see each other's records.
        self._consumer = consumer

    def for_consumer(self, consumer: str) -> MongoUnitOfWork:
        """The same unit of work recording processed messages under ``consumer``."""
        return MongoUnitOfWork(self._client, self._db, self._outbox, consumer=consumer)

    async def run(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        message_ids: Sequence[str] = (),
    ) -> T:
        """Run ``work`` in one transaction, retried on transient conflicts."""
        published = 0

        async def attempt(session: AsyncClientSession) -> T:
            nonlocal published
            await self._record_processed(session, message_ids)
            tx = _MongoTransaction(session, self._outbox)
            result = await work(tx)
            await tx.flush()
            published = tx.published
            return result

        async with self._client.start_session() as session:
            result = await session.with_transaction(attempt)
        if published:
            self._outbox.committed()
        return result

    async def run_idempotent(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        key: IdempotencyKey,
        answer: Callable[[T], Answer],
    ) -> tuple[Answer, bool]:
        """Run ``work`` and store its answer under ``key`` in the same transaction.

        A key already stored replays its answer (``IdempotencyKeyReused`` when the request
        differs). Two requests racing with one key: the loser's insert of the record fails,
        its transaction rolls back entirely, and it replays the winner's answer.
        """
        stored = await self.recall(key)
        if stored is not None:
            return stored, True

        async def with_record(tx: Transaction) -> Answer:
            result = await work(tx)
            given = answer(result)
            # An expired record the TTL monitor has not removed yet (it runs about once a
            # minute) would make the insert a duplicate: it is gone for us already.
            await self._db[IDEMPOTENCY].delete_one(
                {"_id": key.record_id, "expires_at": {"$lte": utcnow()}}, session=tx.session
            )
            await self._db[IDEMPOTENCY].insert_one(
                {
                    "_id": key.record_id,
                    "fingerprint": key.fingerprint,
                    "answer": given,
                    "expires_at": utcnow() + IDEMPOTENCY_RETENTION,
                },
                session=tx.session,
            )
            return given

        try:
            return await self.run(with_record), False
        except DuplicateKeyError:
            stored = await self.recall(key)
            if stored is None:  # the duplicate was something else the work wrote
                raise
            return stored, True

    async def recall(self, key: IdempotencyKey) -> Answer | None:
        """The answer stored under ``key`` within 24 h; ``IdempotencyKeyReused`` if the key
        first came with another request."""
        doc = await self._db[IDEMPOTENCY].find_one({"_id": key.record_id})
        if doc is None or _expired(doc["expires_at"]):
            return None
        if doc["fingerprint"] != key.fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key: {key.key!r} was first used with another request"
            )
        stored: Answer = doc["answer"]
        return stored

    async def _record_processed(
        self, session: AsyncClientSession, message_ids: Sequence[str]
    ) -> None:
        if not message_ids:
            return
        now = utcnow()
        docs = [{"_id": self._record_id(mid), "at": now} for mid in message_ids]
        try:
            if len(docs) == 1:
                await self._db[PROCESSED].insert_one(docs[0], session=session)
            else:
                await self._db[PROCESSED].insert_many(docs, ordered=True, session=session)
        except DuplicateKeyError as exc:
            raise AlreadyProcessed(message_ids) from exc
        except BulkWriteError as exc:
            if all(err.get("code") == 11000 for err in exc.details.get("writeErrors", [])):
                raise AlreadyProcessed(message_ids) from exc
            raise

    def _record_id(self, message_id: str) -> str:
        return f"{self._consumer}:{message_id}"

    async def already_processed(self, message_ids: Sequence[str]) -> set[str]:
        """Which of ``message_ids`` this consumer has recorded (read outside any transaction)."""
        if not message_ids:
            return set()
        ids = [self._record_id(mid) for mid in message_ids]
        prefix = len(self._consumer) + 1
        found = self._db[PROCESSED].find({"_id": {"$in": ids}}, {"_id": 1})
        return {doc["_id"][prefix:] async for doc in found}


def _expired(expires_at: datetime) -> bool:
    return expires_at <= utcnow()


async def ensure_unit_of_work_indexes(db: AsyncDatabase[Document]) -> None:
    """Processed-message records expire after two weeks, idempotency records after a day."""
    await ensure_expiry_indexes(db, UNIT_OF_WORK_EXPIRIES)
