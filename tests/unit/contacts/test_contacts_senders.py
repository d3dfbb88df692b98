"""Contacts for channel senders (`contact.create_for_sender`) on the in-memory fakes.

The same handler the subscriber calls in its batch transaction; here each call is one unit
of work, as `bootstrap` wires it with the fakes. The real broker and database:
tests/e2e/contacts/test_contacts_e2e_sender_commands.py, tests/integration/
test_contacts_sender_races.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.contacts.api_shapes import identify
from services.contacts.app import bootstrap
from services.contacts.domain.errors import InvalidValue
from services.contacts.handlers.commands import DeleteContact
from services.contacts.handlers.deps import Deps
from services.contacts.handlers.senders import SenderCommand, create_for_senders
from services.contacts.settings import ContactsSettings
from shared.contracts import ContactOrigin, CreateContactForSender
from shared.internal import Caller
from shared.unit_of_work import Transaction
from tests.support.contacts_memory import (
    MemoryCatalogStore,
    MemoryContactStore,
    MemoryUnitOfWork,
)

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
SETTINGS = ContactsSettings(internal_token="x" * 16)


class World:
    """Handlers wired with the fakes, and what they stored and queued."""

    def __init__(self) -> None:
        self.store, catalog = MemoryContactStore(), MemoryCatalogStore()
        self.uow = MemoryUnitOfWork(self.store, catalog)
        self.contacts = bootstrap(SETTINGS, uow=self.uow, contacts=self.store,
                                  catalog=catalog, clock=lambda: NOW)
        self.deps: Deps = self.contacts.deps

    async def apply(self, *commands: tuple[str, CreateContactForSender]) -> list[int]:
        """One batch: the commands in one unit of work."""
        async def work(tx: Transaction) -> list[int]:
            return await create_for_senders([SenderCommand(ws, c) for ws, c in commands],
                                            deps=self.deps, tx=tx)

        return await self.uow.run(work)

    def events(self) -> list[tuple[str, int, Any]]:
        return [(r.envelope.type, r.envelope.data.contact_id, r.key)
                for r in self.uow.outbox.records]


def sender(name: str, **fields: Any) -> CreateContactForSender:
    return CreateContactForSender(origin=ContactOrigin(channel_id=2, sender_id=name), **fields)


@pytest.fixture
def world() -> World:
    return World()


async def test_a_new_sender_gets_a_contact_with_the_provider_profile(world: World) -> None:
    [contact_id] = await world.apply(
        ("ws_1", sender("5215512345678", first_name="Luz", phone="5215512345678",
                        language="es_MX", email="Luz@Example.com"))
    )

    contact = await world.store.get("ws_1", contact_id)
    assert contact is not None
    assert (contact.first_name, contact.phone, contact.phone_canonical) == (
        "Luz", "+5215512345678", "+525512345678")
    assert (contact.country_code, contact.language, contact.email) == ("MX", "es-MX",
                                                                       "Luz@Example.com")
    [(kind, cid, key)] = world.events()
    assert (kind, cid, key) == ("contact.created", contact_id, f"ws_1:{contact_id}")
    created = world.uow.outbox.records[0].envelope.data
    assert created.origin == ContactOrigin(channel_id=2, sender_id="5215512345678")
    assert created.contact.phone_canonical == "+525512345678"


async def test_a_batch_creates_once_per_sender_and_links_the_repeats(world: World) -> None:
    ids = await world.apply(("ws_1", sender("a")), ("ws_1", sender("b")), ("ws_1", sender("a")),
                            ("ws_2", sender("a")))
    again = await world.apply(("ws_1", sender("b")))

    assert ids[0] == ids[2] and ids[1] == again[0]
    assert ids[0] != ids[1]
    assert [e[0] for e in world.events()] == [
        "contact.created", "contact.created", "contact.sender_linked", "contact.created",
        "contact.sender_linked",
    ]
    # ws_2's sender "a" is another workspace's customer: its own contact, its own ids.
    assert world.events()[3][2] == f"ws_2:{ids[3]}"


async def test_an_invalid_email_refuses_the_batch_and_takes_no_id(world: World) -> None:
    with pytest.raises(InvalidValue, match="email"):
        await world.apply(("ws_1", sender("a")), ("ws_1", sender("b", email="not an email")))
    assert world.events() == []
    [first] = await world.apply(("ws_1", sender("a")))
    assert first == 1, "the refused batch allocated no id"


async def test_a_sender_whose_contact_was_deleted_gets_a_new_one(world: World) -> None:
    [first] = await world.apply(("ws_1", sender("a")))
    owner = Caller(workspace_id="ws_1", user_id="usr_1", role="owner")
    await world.contacts.handle(DeleteContact(caller=owner, identifier=identify(owner,
                                                                                f"id:{first}")))
    [second] = await world.apply(("ws_1", sender("a")))

    assert second != first
    assert world.events()[-1][:2] == ("contact.created", second)


async def test_a_provider_phone_is_never_refused(world: World) -> None:
    # Not a valid number for a user to type; a provider delivered it: kept as delivered.
    [contact_id] = await world.apply(("ws_1", sender("x", phone="+1 555 0100")))
    contact = await world.store.get("ws_1", contact_id)
    assert contact is not None and contact.phone == "+15550100"
