"""One repository contract, two implementations: MongoDB (`store.py`) and the in-memory fake.

The tests live in `tests/unit/contacts/contacts_store_contract.py`; here every one of them
runs on both backends side by side, the MongoDB one in a private database of the test
servers (fresh workspaces per test).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient

from services.contacts.store import CatalogStore, ContactStore
from shared.mongo import Document, make_mongo_client
from shared.outbox import Outbox
from shared.settings import MongoSettings
from shared.unit_of_work import MongoUnitOfWork
from tests.fixtures.stack import JointFixture
from tests.support.contacts_memory import (
    MemoryCatalogStore,
    MemoryContactStore,
    MemoryUnitOfWork,
)
from tests.unit.contacts.contacts_store_contract import (
    Backend,
    CatalogRepositoryContract,
    ContactRepositoryContract,
)


@pytest.fixture(scope="module")
async def mongo(servers: JointFixture) -> AsyncIterator[tuple[AsyncMongoClient[Document], str]]:
    name = f"test_store_contract_{uuid.uuid4().hex[:8]}"
    client = make_mongo_client(MongoSettings(mongo_url=servers.mongo_url, mongo_database=name),
                               app_name="test")
    contacts, catalog = ContactStore(client[name]), CatalogStore(client[name])
    await contacts.ensure_indexes()
    await catalog.ensure_indexes()
    try:
        yield client, name
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture(params=["memory", "mongo"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        contacts, catalog = MemoryContactStore(), MemoryCatalogStore()
        return Backend(contacts=contacts, catalog=catalog,
                       uow=MemoryUnitOfWork(contacts, catalog))
    client, name = request.getfixturevalue("mongo")
    db = client[name]
    return Backend(contacts=ContactStore(db), catalog=CatalogStore(db),
                   uow=MongoUnitOfWork(client, db, Outbox(db)))


class TestContactRepository(ContactRepositoryContract):
    """Contacts, on both backends."""


class TestCatalogRepository(CatalogRepositoryContract):
    """The catalog, on both backends."""
