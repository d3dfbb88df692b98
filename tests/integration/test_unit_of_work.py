"""The unit of work on the real database: state, events, processed ids and idempotency records
commit together or not at all."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.contracts import ContactBlocked, envelope_for
from shared.mongo import Document, make_mongo_client
from shared.outbox import OUTBOX, Outbox
from shared.settings import MongoSettings
from shared.unit_of_work import (
    IDEMPOTENCY,
    PROCESSED,
    AlreadyProcessed,
    IdempotencyKey,
    IdempotencyKeyReused,
    MongoUnitOfWork,
    Transaction,
    ensure_unit_of_work_indexes,
    request_fingerprint,
)
from tests.fixtures.stack import JointFixture


@pytest.fixture
async def db(servers: JointFixture) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh database, dropped afterwards."""
    name = f"test_uow_{uuid.uuid4().hex[:10]}"
    client = make_mongo_client(MongoSettings(mongo_url=servers.mongo_url, mongo_database=name),
                               app_name="uow-test")
    await ensure_unit_of_work_indexes(client[name])
    yield client[name]
    await client.drop_database(name)
    await client.close()


def uow_of(db: AsyncDatabase[Document]) -> MongoUnitOfWork:
    return MongoUnitOfWork(db.client, db, Outbox(db), consumer="test-group")


def create(db: AsyncDatabase[Document], contact_id: int, runs: list[int]) -> Any:
    """Work that stores a contact and publishes its event."""

    async def work(tx: Transaction) -> int:
        runs.append(contact_id)
        await db.contacts.insert_one({"_id": contact_id}, session=tx.session)
        envelope = envelope_for(ContactBlocked(contact_id=contact_id, version=1), source="t",
                                subject=f"contact/{contact_id}", workspace_id="ws")
        await tx.publish(topic="t", key=f"ws:{contact_id}", envelope=envelope)
        return contact_id

    return work


def key(body: Any, workspace: str = "ws_1", name: str = "k-1") -> IdempotencyKey:
    return IdempotencyKey(workspace_id=workspace, key=name, fingerprint=request_fingerprint(
        method="POST", path="/v2/contact/email:a@b.c", body=body))


async def test_a_message_id_is_applied_once(db: AsyncDatabase[Document]) -> None:
    uow, runs = uow_of(db), []
    await uow.run(create(db, 1, runs), message_ids=["m1"])
    with pytest.raises(AlreadyProcessed):
        await uow.run(create(db, 2, runs), message_ids=["m1"])
    with pytest.raises(AlreadyProcessed):  # a batch holding an applied one applies none
        await uow.run(create(db, 3, runs), message_ids=["m2", "m1"])

    assert await db.contacts.distinct("_id") == [1]
    assert await db[OUTBOX].count_documents({}) == 1
    assert sorted(await db[PROCESSED].distinct("_id")) == ["test-group:m1"]
    assert await uow.already_processed(["m1", "m2"]) == {"m1"}


async def test_a_failing_work_leaves_nothing(db: AsyncDatabase[Document]) -> None:
    uow = uow_of(db)

    async def half_then_fail(tx: Transaction) -> None:
        await create(db, 9, [])(tx)
        raise RuntimeError("midway")

    with pytest.raises(RuntimeError):
        await uow.run(half_then_fail, message_ids=["m9"])
    for collection in ("contacts", OUTBOX, PROCESSED):
        assert await db[collection].count_documents({}) == 0, collection


async def test_an_idempotency_key_replays_the_first_answer(db: AsyncDatabase[Document]) -> None:
    uow, runs = uow_of(db), []
    first = await uow.run_idempotent(create(db, 1, runs), key=key({"a": 1}),
                                     answer=lambda cid: {"contactId": cid})
    again = await uow.run_idempotent(create(db, 2, runs), key=key({"a": 1}),
                                     answer=lambda cid: {"contactId": cid})

    assert first == ({"contactId": 1}, False)
    assert again == ({"contactId": 1}, True)
    assert runs == [1]
    assert await db.contacts.distinct("_id") == [1]
    with pytest.raises(IdempotencyKeyReused):
        await uow.run_idempotent(create(db, 3, runs), key=key({"a": 2}),
                                 answer=lambda cid: {"contactId": cid})
    # Keys are per workspace: another workspace's same key is another request.
    other = await uow.run_idempotent(create(db, 4, runs), key=key({"a": 1}, workspace="ws_2"),
                                     answer=lambda cid: {"contactId": cid})
    assert other == ({"contactId": 4}, False)
    assert await db[IDEMPOTENCY].count_documents({}) == 2


async def test_concurrent_requests_with_one_key_commit_once(db: AsyncDatabase[Document]) -> None:
    uow, runs = uow_of(db), []
    answers = await asyncio.gather(*(
        uow.run_idempotent(create(db, 100 + i, runs), key=key({"a": 1}, name="race"),
                           answer=lambda cid: {"contactId": cid})
        for i in range(5)
    ))

    assert await db.contacts.count_documents({}) == 1
    [stored] = await db.contacts.distinct("_id")
    assert {a for a, _ in [(a["contactId"], r) for a, r in answers]} == {stored}
    assert sum(1 for _, replayed in answers if not replayed) == 1
    assert await db[OUTBOX].count_documents({}) == 1
