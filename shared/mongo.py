"""MongoDB client factory and the transaction helper every service uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

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


class MongoTransactions:
    """Runs units of work as MongoDB transactions of one client (a transaction runner)."""

    def __init__(self, client: AsyncMongoClient[Document]):
        self._client = client

    async def run(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Run ``work(session)`` in one transaction, retried on transient conflicts."""
        return await in_transaction(self._client, work)


async def ping(db: AsyncDatabase[Document]) -> None:
    """Raise unless the database answers."""
    await db.command("ping")
