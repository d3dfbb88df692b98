"""The contacts use cases on the in-memory ports: what is stored and which events are queued.

No Kafka, no MongoDB: `ContactsService` gets `memory.py`'s stores, outbox and transaction
runner through its constructor, as `app.py` gives it the MongoDB ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from services.contacts.domain.errors import Forbidden, InvalidValue, NotFound
from services.contacts.handlers import ContactsService
from services.contacts.memory import (
    MemoryCatalogStore,
    MemoryContactStore,
    MemoryOutbox,
    MemoryTransactions,
)
from shared.contracts import Envelope
from shared.internal import Caller, Role

TOPIC = "contacts.events.v1"
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@dataclass
class World:
    """The use cases and the in-memory state behind them."""

    service: ContactsService
    contacts: MemoryContactStore
    catalog: MemoryCatalogStore
    outbox: MemoryOutbox
    transactions: MemoryTransactions

    def caller(self, role: Role = "owner") -> Caller:
        return Caller(workspace_id="ws_1", user_id="usr_1", role=role, default_region="FR")

    def events(self) -> list[tuple[str, int]]:
        """Queued events as (type, data.version)."""
        return [(r.envelope.type, r.envelope.data.version) for r in self.outbox.records]


class FailingOutbox(MemoryOutbox):
    """An outbox whose write fails, after the use case has written its contact."""

    async def add(self, session: Any, *, topic: str, key: str, envelope: Envelope[Any]) -> None:
        raise RuntimeError("outbox write failed")


def _world(outbox: MemoryOutbox | None = None) -> World:
    contacts, catalog = MemoryContactStore(), MemoryCatalogStore()
    outbox = outbox or MemoryOutbox()
    transactions = MemoryTransactions(contacts, catalog, outbox)
    service = ContactsService(transactions=transactions, contacts=contacts, catalog=catalog,
                              outbox=outbox, topic=TOPIC, clock=lambda: NOW, tag_batch_size=2)
    return World(service, contacts, catalog, outbox, transactions)


@pytest.fixture
def world() -> World:
    return _world()


async def test_create_stores_version_1_and_queues_one_created_event(world: World) -> None:
    caller = world.caller()
    contact_id = await world.service.create(caller, "email:Ann@example.com", {"firstName": "Ann"})

    found = await world.service.get(caller, "email:ann@example.com")
    assert (found.contact.id, found.contact.first_name, found.contact.email) == (
        contact_id, "Ann", "Ann@example.com")
    assert found.contact.version == 1
    [record] = world.outbox.records
    assert (record.topic, record.key) == (TOPIC, f"ws_1:{contact_id}")
    assert (record.envelope.type, record.envelope.data.version) == ("contact.created", 1)
    assert record.envelope.subject == f"contact/{contact_id}"
    assert world.outbox.notifications == 1


async def test_an_update_that_changes_nothing_queues_nothing(world: World) -> None:
    caller = world.caller()
    contact_id = await world.service.create(caller, "email:ann@example.com", {"firstName": "Ann"})

    await world.service.update(caller, f"id:{contact_id}", {"firstName": "Ann"})
    assert world.events() == [("contact.created", 1)]
    assert (await world.service.get(caller, f"id:{contact_id}")).contact.version == 1

    await world.service.update(caller, f"id:{contact_id}", {"firstName": "Anne"})
    assert world.events() == [("contact.created", 1), ("contact.updated", 2)]


async def test_an_invalid_phone_stores_nothing_and_queues_nothing(world: World) -> None:
    caller = world.caller()
    with pytest.raises(InvalidValue) as err:
        await world.service.create(caller, "email:ann@example.com", {"phone": "12"})
    assert err.value.field == "phone"
    with pytest.raises(NotFound):
        await world.service.get(caller, "email:ann@example.com")
    assert world.outbox.records == []
    # A refused create allocates no id.
    assert await world.service.create(caller, "email:ann@example.com", {}) == 1


async def test_an_invalid_phone_leaves_an_existing_contact_as_it_was(world: World) -> None:
    caller = world.caller()
    contact_id = await world.service.create(caller, "phone:+33612345678", {})
    before = (await world.service.get(caller, f"id:{contact_id}")).contact

    with pytest.raises(InvalidValue):
        await world.service.update(caller, f"id:{contact_id}", {"phone": "not a phone"})
    assert (await world.service.get(caller, f"id:{contact_id}")).contact == before
    assert world.events() == [("contact.created", 1)]


async def test_an_agent_may_not_delete(world: World) -> None:
    contact_id = await world.service.create(world.caller(), "email:ann@example.com", {})

    with pytest.raises(Forbidden):
        await world.service.delete(world.caller("agent"), f"id:{contact_id}")
    assert (await world.service.get(world.caller(), f"id:{contact_id}")).contact.id == contact_id
    assert world.events() == [("contact.created", 1)]


async def test_a_manager_deletes_with_one_deleted_event(world: World) -> None:
    contact_id = await world.service.create(world.caller(), "email:ann@example.com", {})

    await world.service.delete(world.caller("manager"), f"id:{contact_id}")
    with pytest.raises(NotFound):
        await world.service.get(world.caller(), f"id:{contact_id}")
    assert world.events() == [("contact.created", 1), ("contact.deleted", 2)]
    assert world.outbox.records[-1].envelope.data.deleted_by == "usr_1"


async def test_blocking_twice_queues_one_event(world: World) -> None:
    caller = world.caller()
    contact_id = await world.service.create(caller, "email:ann@example.com", {})

    await world.service.set_blocked(caller, f"id:{contact_id}", blocked=True)
    await world.service.set_blocked(caller, f"id:{contact_id}", blocked=True)
    contact = (await world.service.get(caller, f"id:{contact_id}")).contact
    assert (contact.blocked, contact.version) == (True, 2)
    assert world.events() == [("contact.created", 1), ("contact.blocked", 2)]


async def test_adding_tags_creates_them_in_the_catalog_with_their_first_spelling(
    world: World,
) -> None:
    caller = world.caller()
    await world.service.create_tag(caller, {"name": "VIP"})
    contact_id = await world.service.create(caller, "email:ann@example.com", {})

    await world.service.add_tags(caller, f"id:{contact_id}", ["vip", "Lead"])
    assert [t.name for t in await world.service.tags(caller)] == ["Lead", "VIP"]
    assert (await world.service.get(caller, f"id:{contact_id}")).contact.tags == ["VIP", "Lead"]
    await world.service.add_tags(caller, f"id:{contact_id}", ["LEAD"])  # has it: no change
    assert world.events() == [("contact.created", 1), ("contact.tags_changed", 2)]


async def test_upsert_creates_then_updates_the_same_contact(world: World) -> None:
    caller = world.caller()
    created = await world.service.upsert(caller, "email:Ann@example.com", {"firstName": "Ann"})
    updated = await world.service.upsert(caller, "email:ann@EXAMPLE.com", {"lastName": "Lee"})

    assert updated == created
    found = await world.service.get(caller, "email:ann@example.com")
    assert (found.matches, found.contact.first_name, found.contact.last_name) == (1, "Ann", "Lee")
    assert found.contact.email == "Ann@example.com"  # the update keeps the stored spelling
    assert world.events() == [("contact.created", 1), ("contact.updated", 2)]


async def test_deleting_a_catalog_tag_untags_every_contact_batch_by_batch(world: World) -> None:
    caller = world.caller()
    ids = [await world.service.create(caller, f"email:c{i}@example.com", {}) for i in range(3)]
    for contact_id in ids:
        await world.service.add_tags(caller, f"id:{contact_id}", ["vip"])

    await world.service.delete_tag(caller, {"name": "VIP"})
    assert await world.service.tags(caller) == []
    assert [(await world.service.get(caller, f"id:{i}")).contact.tags for i in ids] == [[]] * 3
    assert world.events().count(("contact.tags_changed", 3)) == 3


async def test_a_use_case_that_fails_midway_leaves_nothing() -> None:
    world = _world(FailingOutbox())
    caller = world.caller()

    with pytest.raises(RuntimeError):
        await world.service.create(caller, "email:ann@example.com", {"firstName": "Ann"})
    with pytest.raises(NotFound):
        await world.service.get(caller, "email:ann@example.com")
    assert (world.transactions.commits, world.transactions.rollbacks) == (0, 1)
    assert world.outbox.notifications == 0
