"""The contacts handlers on in-memory fakes: what is stored and which events are queued.

No Kafka, no MongoDB: `bootstrap` gets the fakes of `tests/support/contacts_memory.py` as
overrides (the app gives it the MongoDB ones). Commands are built as the API builds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from services.contacts.api_shapes import (
    add_tags_command,
    create_command,
    create_tag_command,
    delete_tag_command,
    identify,
    update_command,
    upsert_command,
)
from services.contacts.app import bootstrap
from services.contacts.domain.errors import Forbidden, InvalidValue, NotFound
from services.contacts.domain.tags import Tag
from services.contacts.handlers import Contacts
from services.contacts.handlers.commands import (
    DeleteContact,
    GetContact,
    ListTags,
    Lookup,
    SetBlocked,
)
from services.contacts.settings import ContactsSettings
from shared.contracts import Envelope
from shared.internal import Caller, Role
from tests.support.contacts_memory import (
    MemoryCatalogStore,
    MemoryContactStore,
    MemoryOutbox,
    MemoryUnitOfWork,
)

TOPIC = "contacts.events.v1"
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
SETTINGS = ContactsSettings(internal_token="x" * 16, tag_batch_size=2)


@dataclass
class World:
    """The wired handlers and the in-memory state behind them."""

    contacts: Contacts
    store: MemoryContactStore
    catalog: MemoryCatalogStore
    outbox: MemoryOutbox
    uow: MemoryUnitOfWork

    def caller(self, role: Role = "owner") -> Caller:
        return Caller(workspace_id="ws_1", user_id="usr_1", role=role, default_region="FR")

    def events(self) -> list[tuple[str, int]]:
        """Queued events as (type, data.version)."""
        return [(r.envelope.type, r.envelope.data.version) for r in self.outbox.records]

    async def get(self, caller: Caller, identifier: str) -> Lookup:
        return await self.contacts.handle(
            GetContact(caller=caller, identifier=identify(caller, identifier))
        )

    async def tags(self, caller: Caller) -> list[Tag]:
        return await self.contacts.handle(ListTags(caller=caller))


class FailingOutbox(MemoryOutbox):
    """An outbox whose write fails, after the handler has written its contact."""

    async def add(self, session: Any, *, topic: str, key: str, envelope: Envelope[Any]) -> None:
        raise RuntimeError("outbox write failed")


def _world(outbox: MemoryOutbox | None = None) -> World:
    store, catalog = MemoryContactStore(), MemoryCatalogStore()
    uow = MemoryUnitOfWork(store, catalog, outbox=outbox)
    contacts = bootstrap(SETTINGS, uow=uow, contacts=store, catalog=catalog, clock=lambda: NOW)
    return World(contacts, store, catalog, uow.outbox, uow)


@pytest.fixture
def world() -> World:
    return _world()


async def test_create_stores_version_1_and_queues_one_created_event(world: World) -> None:
    caller = world.caller()
    contact_id = await world.contacts.handle(
        create_command(caller, "email:Ann@example.com", {"firstName": "Ann"})
    )

    found = await world.get(caller, "email:ann@example.com")
    assert (found.contact.id, found.contact.first_name, found.contact.email) == (
        contact_id,
        "Ann",
        "Ann@example.com",
    )
    assert found.contact.version == 1
    [record] = world.outbox.records
    assert (record.topic, record.key) == (TOPIC, f"ws_1:{contact_id}")
    assert (record.envelope.type, record.envelope.data.version) == ("contact.created", 1)
    assert record.envelope.subject == f"contact/{contact_id}"
    assert world.outbox.notifications == 1


async def test_an_update_that_changes_nothing_queues_nothing(world: World) -> None:
    caller = world.caller()
    contact_id = await world.contacts.handle(
        create_command(caller, "email:ann@example.com", {"firstName": "Ann"})
    )

    await world.contacts.handle(update_command(caller, f"id:{contact_id}", {"firstName": "Ann"}))
    assert world.events() == [("contact.created", 1)]
    assert (await world.get(caller, f"id:{contact_id}")).contact.version == 1

    await world.contacts.handle(update_command(caller, f"id:{contact_id}", {"firstName": "Anne"}))
    assert world.events() == [("contact.created", 1), ("contact.updated", 2)]


async def test_an_invalid_phone_stores_nothing_and_queues_nothing(world: World) -> None:
    caller = world.caller()
    with pytest.raises(InvalidValue) as err:
        await world.contacts.handle(
            create_command(caller, "email:ann@example.com", {"phone": "12"})
        )
    assert err.value.field == "phone"
    with pytest.raises(NotFound):
        await world.get(caller, "email:ann@example.com")
    assert world.outbox.records == []
    # A refused create allocates no id.
    assert await world.contacts.handle(create_command(caller, "email:ann@example.com", {})) == 1


async def test_an_invalid_phone_leaves_an_existing_contact_as_it_was(world: World) -> None:
    caller = world.caller()
    contact_id = await world.contacts.handle(create_command(caller, "phone:+33612345678", {}))
    before = (await world.get(caller, f"id:{contact_id}")).contact

    with pytest.raises(InvalidValue):
        await world.contacts.handle(
            update_command(caller, f"id:{contact_id}", {"phone": "not a phone"})
        )
    assert (await world.get(caller, f"id:{contact_id}")).contact == before
    assert world.events() == [("contact.created", 1)]


async def test_an_agent_may_not_delete(world: World) -> None:
    contact_id = await world.contacts.handle(
        create_command(world.caller(), "email:ann@example.com", {})
    )

    with pytest.raises(Forbidden):
        agent = world.caller("agent")
        await world.contacts.handle(
            DeleteContact(caller=agent, identifier=identify(agent, f"id:{contact_id}"))
        )
    assert (await world.get(world.caller(), f"id:{contact_id}")).contact.id == contact_id
    assert world.events() == [("contact.created", 1)]


async def test_a_manager_deletes_with_one_deleted_event(world: World) -> None:
    contact_id = await world.contacts.handle(
        create_command(world.caller(), "email:ann@example.com", {})
    )

    manager = world.caller("manager")
    await world.contacts.handle(
        DeleteContact(caller=manager, identifier=identify(manager, f"id:{contact_id}"))
    )
    with pytest.raises(NotFound):
        await world.get(world.caller(), f"id:{contact_id}")
    assert world.events() == [("contact.created", 1), ("contact.deleted", 2)]
    assert world.outbox.records[-1].envelope.data.deleted_by == "usr_1"


async def test_blocking_twice_queues_one_event(world: World) -> None:
    caller = world.caller()
    contact_id = await world.contacts.handle(create_command(caller, "email:ann@example.com", {}))

    await world.contacts.handle(
        SetBlocked(caller=caller, identifier=identify(caller, f"id:{contact_id}"), blocked=True)
    )
    await world.contacts.handle(
        SetBlocked(caller=caller, identifier=identify(caller, f"id:{contact_id}"), blocked=True)
    )
    contact = (await world.get(caller, f"id:{contact_id}")).contact
    assert (contact.blocked, contact.version) == (True, 2)
    assert world.events() == [("contact.created", 1), ("contact.blocked", 2)]


async def test_adding_tags_creates_them_in_the_catalog_with_their_first_spelling(
    world: World,
) -> None:
    caller = world.caller()
    await world.contacts.handle(create_tag_command(caller, {"name": "VIP"}))
    contact_id = await world.contacts.handle(create_command(caller, "email:ann@example.com", {}))

    await world.contacts.handle(add_tags_command(caller, f"id:{contact_id}", ["vip", "Lead"]))
    assert [t.name for t in await world.tags(caller)] == ["Lead", "VIP"]
    assert (await world.get(caller, f"id:{contact_id}")).contact.tags == ["VIP", "Lead"]
    await world.contacts.handle(
        add_tags_command(caller, f"id:{contact_id}", ["LEAD"])
    )  # has it: no change
    assert world.events() == [("contact.created", 1), ("contact.tags_changed", 2)]


async def test_upsert_creates_then_updates_the_same_contact(world: World) -> None:
    caller = world.caller()
    created = await world.contacts.handle(
        upsert_command(caller, "email:Ann@example.com", {"firstName": "Ann"})
    )
    updated = await world.contacts.handle(
        upsert_command(caller, "email:ann@EXAMPLE.com", {"lastName": "Lee"})
    )

    assert updated == created
    found = await world.get(caller, "email:ann@example.com")
    assert (found.matches, found.contact.first_name, found.contact.last_name) == (1, "Ann", "Lee")
    assert found.contact.email == "Ann@example.com"  # the update keeps the stored spelling
    assert world.events() == [("contact.created", 1), ("contact.updated", 2)]


async def test_deleting_a_catalog_tag_untags_every_contact_batch_by_batch(world: World) -> None:
    caller = world.caller()
    ids = [
        await world.contacts.handle(create_command(caller, f"email:c{i}@example.com", {}))
        for i in range(3)
    ]
    for contact_id in ids:
        await world.contacts.handle(add_tags_command(caller, f"id:{contact_id}", ["vip"]))

    await world.contacts.handle(delete_tag_command(caller, {"name": "VIP"}))
    assert await world.tags(caller) == []
    assert [(await world.get(caller, f"id:{i}")).contact.tags for i in ids] == [[]] * 3
    assert world.events().count(("contact.tags_changed", 3)) == 3


async def test_a_use_case_that_fails_midway_leaves_nothing() -> None:
    world = _world(FailingOutbox())
    caller = world.caller()

    with pytest.raises(RuntimeError):
        await world.contacts.handle(
            create_command(caller, "email:ann@example.com", {"firstName": "Ann"})
        )
    with pytest.raises(NotFound):
        await world.get(caller, "email:ann@example.com")
    assert (world.uow.commits, world.uow.rollbacks) == (0, 1)
    assert world.outbox.notifications == 0
