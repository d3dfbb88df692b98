"""Two replicas of the contacts service applying commands for one new sender at the same
moment (two transactions racing on the real database) make one contact."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from services.contacts.app import bootstrap
from services.contacts.handlers.senders import create_for_sender
from services.contacts.settings import ContactsSettings
from services.contacts.store import CatalogStore, ContactStore
from shared.contracts import ContactOrigin, CreateContactForSender, parse
from shared.mongo import Document, make_mongo_client
from shared.outbox import OUTBOX, Outbox
from shared.settings import MongoSettings
from shared.unit_of_work import MongoUnitOfWork, Transaction
from tests.fixtures.stack import JointFixture


@pytest.fixture
async def db(servers: JointFixture) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh contacts database, dropped afterwards."""
    name = f"test_senders_{uuid.uuid4().hex[:10]}"
    client = make_mongo_client(MongoSettings(mongo_url=servers.mongo_url, mongo_database=name),
                               app_name="senders-test")
    await ContactStore(client[name]).ensure_indexes()
    yield client[name]
    await client.drop_database(name)
    await client.close()


async def test_racing_commands_for_one_sender_make_one_contact(
    db: AsyncDatabase[Document],
) -> None:
    settings = ContactsSettings(internal_token="integration-test-token-000")
    replicas = [
        bootstrap(settings, uow=MongoUnitOfWork(db.client, db, Outbox(db), consumer="contacts"),
                  contacts=ContactStore(db), catalog=CatalogStore(db)).deps
        for _ in range(2)
    ]
    async def apply(deps: Any, message_id: str, command: CreateContactForSender) -> int:
        async def work(tx: Transaction) -> int:
            return await create_for_sender(command, workspace_id="ws_race", deps=deps, tx=tx)

        answer: int = await deps.uow.run(work, message_ids=[message_id])
        return answer

    for round_ in range(5):  # several rounds: a race lost by chance once is not enough
        round_origin = ContactOrigin(channel_id=4, sender_id=f"+3361234567{round_}")
        command = CreateContactForSender(origin=round_origin, phone=round_origin.sender_id)
        ids = await asyncio.gather(*(apply(deps, f"m{round_}-{i}", command)
                                     for i, deps in enumerate(replicas)))
        assert ids[0] == ids[1], f"round {round_}: both answers name one contact"

    assert await db.contacts.count_documents({}) == 5
    types = sorted([parse(bytes(doc["value"])).type async for doc in db[OUTBOX].find()])
    assert types == ["contact.created"] * 5 + ["contact.sender_linked"] * 5
