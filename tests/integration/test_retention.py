"""Expired records are deleted by the process that writes them (shared/retention.py), on the
real database: only what expired, by a plain index that replaces an older TTL index."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.contracts.envelope import utcnow
from shared.mongo import Document, make_mongo_client
from shared.outbox import OUTBOX_EXPIRY, ensure_outbox_indexes
from shared.retention import Expiry, delete_expired, ensure_expiry_indexes, sweep_forever
from shared.settings import MongoSettings
from tests.fixtures.stack import JointFixture

AGED = Expiry("aged", "at", after_s=3600)
DATED = Expiry("dated", "expires_at")


@pytest.fixture
async def db(servers: JointFixture) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh database, dropped afterwards."""
    name = f"test_retention_{uuid.uuid4().hex[:10]}"
    client = make_mongo_client(MongoSettings(mongo_url=servers.mongo_url, mongo_database=name),
                               app_name="retention-test")
    yield client[name]
    await client.drop_database(name)
    await client.close()


async def test_only_expired_documents_are_deleted(db: AsyncDatabase[Document]) -> None:
    await ensure_expiry_indexes(db, [AGED, DATED])
    now = utcnow()
    await db.aged.insert_many([
        {"_id": "old", "at": now - timedelta(hours=2)},
        {"_id": "young", "at": now - timedelta(minutes=10)},
        {"_id": "undated"},
        {"_id": "not-a-date", "at": "yesterday"},
    ])
    await db.dated.insert_many([
        {"_id": "past", "expires_at": now - timedelta(seconds=1)},
        {"_id": "future", "expires_at": now + timedelta(hours=1)},
    ])

    assert await delete_expired(db, [AGED, DATED], now=now) == {"aged": 1, "dated": 1}
    assert sorted(await db.aged.distinct("_id")) == ["not-a-date", "undated", "young"]
    assert await db.dated.distinct("_id") == ["future"]
    assert await delete_expired(db, [AGED, DATED], now=now) == {"aged": 0, "dated": 0}


async def test_a_ttl_index_of_an_older_version_becomes_a_plain_index(
    db: AsyncDatabase[Document],
) -> None:
    await db.outbox.create_index("created_at", expireAfterSeconds=7 * 24 * 3600)
    await ensure_outbox_indexes(db)
    await ensure_outbox_indexes(db)  # again, as the next replica does
    indexes = await db.outbox.index_information()
    on_created = [spec for spec in indexes.values() if spec["key"] == [("created_at", 1)]]
    assert len(on_created) == 1
    assert "expireAfterSeconds" not in on_created[0]
    assert OUTBOX_EXPIRY.collection == "outbox"


async def test_the_sweep_runs_until_cancelled(db: AsyncDatabase[Document]) -> None:
    await ensure_expiry_indexes(db, [DATED])
    await db.dated.insert_one({"_id": "past", "expires_at": utcnow() - timedelta(seconds=1)})
    sweeping = asyncio.create_task(sweep_forever(db, [DATED], every_s=0.05))
    try:
        for _ in range(100):
            if await db.dated.count_documents({}) == 0:
                break
            await asyncio.sleep(0.05)
        assert await db.dated.count_documents({}) == 0
    finally:
        sweeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sweeping
