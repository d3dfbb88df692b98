"""MongoDB client factory, a transaction helper and an atomic counter.

Services run their transactions through `shared.unit_of_work`; `in_transaction` is a bare
transaction for code outside a service (benches, tests).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.settings import MongoSettings

T = TypeVar("T")
Document = dict[str, Any]


def make_mongo_client(settings: MongoSettings, *, app_name: str) -> AsyncMongoClient[Document]:
    """Build the service's one pooled client (call from a lifespan hook, not at import)."""
    return AsyncMongoClient(
        settings.mongo_url,
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=5_000,
        w="majority",
    )


async def in_transaction(
    client: AsyncMongoClient[Document],
    work: Callable[[AsyncClientSession], Awaitable[T]],
) -> T:
    """Run ``work(session)`` in one MongoDB transaction, retried on transient conflicts."""
    async with client.start_session() as session:
        return await session.with_transaction(work)


async def increment(
    collection: AsyncCollection[Document],
    doc_id: str,
    field: str,
    *,
    by: int = 1,
    attempts: int = 5,
) -> int:
    """Add ``by`` to ``field`` of document ``doc_id`` (created at 0 if missing); the new value.

    Outside any transaction. The increment itself never upserts: two first increments would
    race to insert the document, and the loser may get a duplicate-key error (MongoDB) or
    an answer without the document that still counted (seen on SecantusDB). So a missing
    document is created first, idempotently, and the increment is plain and atomic.
    """
    for _ in range(attempts):
        doc = await collection.find_one_and_update(
            {"_id": doc_id}, {"$inc": {field: by}}, return_document=ReturnDocument.AFTER
        )
        if doc is not None:
            return int(doc[field])
        with contextlib.suppress(DuplicateKeyError):  # someone else created it: fine
            await collection.update_one(
                {"_id": doc_id}, {"$setOnInsert": {field: 0}}, upsert=True
            )
    raise RuntimeError(f"cannot increment {field} of {doc_id} in {collection.name}")
