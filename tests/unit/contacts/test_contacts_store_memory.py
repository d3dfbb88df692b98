"""The repository contract on the in-memory stores (the integration tier runs it on MongoDB)."""

from __future__ import annotations

import pytest

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


@pytest.fixture
def backend() -> Backend:
    contacts, catalog = MemoryContactStore(), MemoryCatalogStore()
    return Backend(contacts=contacts, catalog=catalog, uow=MemoryUnitOfWork(contacts, catalog))


class TestMemoryContacts(ContactRepositoryContract):
    """Contacts in memory."""


class TestMemoryCatalog(CatalogRepositoryContract):
    """The catalog in memory."""


async def test_a_write_outside_a_transaction_is_refused(backend: Backend) -> None:
    with pytest.raises(RuntimeError):
        await backend.catalog.delete_tag(backend.ws, "vip", None)
