"""The repository contract on the in-memory stores (the integration tier runs it on MongoDB)."""

from __future__ import annotations

import pytest

from services.contacts.memory import (
    MemoryCatalogStore,
    MemoryContactStore,
    MemoryOutbox,
    MemoryTransactions,
)
from tests.unit.contacts.contacts_store_contract import (
    Backend,
    CatalogRepositoryContract,
    ContactRepositoryContract,
)


@pytest.fixture
def backend() -> Backend:
    contacts, catalog = MemoryContactStore(), MemoryCatalogStore()
    return Backend(contacts=contacts, catalog=catalog,
                   transactions=MemoryTransactions(contacts, catalog, MemoryOutbox()))


class TestMemoryContacts(ContactRepositoryContract):
    """Contacts in memory."""


class TestMemoryCatalog(CatalogRepositoryContract):
    """The catalog in memory."""


async def test_a_write_outside_a_transaction_is_refused(backend: Backend) -> None:
    with pytest.raises(RuntimeError):
        await backend.catalog.delete_tag(backend.ws, "vip", None)
