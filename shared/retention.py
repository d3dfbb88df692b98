"""Old records removed by the process that writes them: an indexed range delete, not a TTL index.

On MongoDB a TTL index would do. On the local server (SecantusDB) the TTL sweeper reads and
decodes *every* document of each TTL-indexed collection once a minute while holding the
store's global lock (~16 µs a document): the outbox alone keeps a week of events, so the
stall grows with everything ever written (0.8 s a minute at 50,000 rows; docs/operations.md).
`delete_many({field: {$lt: cutoff}})` over a plain index reads only what expires (2 ms
when nothing does), so each process sweeps its own collections every
``retention_sweep_s`` and the cost follows the write rate, not the store's size.

Replicas of a service all sweep: the deletes are idempotent and cheap when there is
nothing to delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from shared.contracts.envelope import utcnow
from shared.mongo import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expiry:
    """Documents of ``collection`` whose date ``field`` is more than ``after_s`` seconds old
    are removed (``after_s=0``: the field holds the expiry time itself)."""

    collection: str
    field: str
    after_s: float = 0.0

    def cutoff(self, now: datetime) -> datetime:
        """Documents dated before this are expired."""
        return now - timedelta(seconds=self.after_s)


async def ensure_expiry_indexes(db: AsyncDatabase[Document], expiries: Iterable[Expiry]) -> None:
    """A plain ascending index per expiry field; a TTL index left on it by an older version
    is dropped first (same key, other options: MongoDB refuses to create both)."""
    for expiry in expiries:
        collection = db[expiry.collection]
        for name, spec in (await collection.index_information()).items():
            if spec.get("key") == [(expiry.field, 1)] and "expireAfterSeconds" in spec:
                with contextlib.suppress(OperationFailure):  # another replica dropped it
                    await collection.drop_index(name)
        await collection.create_index([(expiry.field, ASCENDING)])


async def delete_expired(
    db: AsyncDatabase[Document], expiries: Iterable[Expiry], *, now: datetime | None = None
) -> dict[str, int]:
    """Delete every expired document now; how many, by collection."""
    at = now or utcnow()
    deleted: dict[str, int] = {}
    for expiry in expiries:
        result = await db[expiry.collection].delete_many(
            {expiry.field: {"$lt": expiry.cutoff(at)}}
        )
        deleted[expiry.collection] = deleted.get(expiry.collection, 0) + result.deleted_count
    return deleted


async def sweep_forever(
    db: AsyncDatabase[Document], expiries: Iterable[Expiry], *, every_s: float
) -> None:
    """Delete expired documents every ``every_s`` (jittered) until cancelled; a failed sweep
    (database away) is logged and tried again at the next turn."""
    rules = tuple(expiries)
    while True:
        await asyncio.sleep(every_s * random.uniform(0.8, 1.2))
        try:
            deleted = await delete_expired(db, rules)
        except PyMongoError as exc:
            log.warning("retention sweep failed: %r; next in ~%.0f s", exc, every_s)
            continue
        if any(deleted.values()):
            log.info("retention sweep deleted %s", deleted)
