"""The plumbing every contacts use case shares: dependencies, transactions, events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from services.contacts.domain.changes import ContactChange, retag
from services.contacts.domain.contact import Contact
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import NotFound
from services.contacts.domain.identifiers import Identifier, parse_identifier
from services.contacts.domain.settings import order_custom_fields
from services.contacts.ports import (
    CatalogRepository,
    ContactRepository,
    EventOutbox,
    Session,
    TransactionRunner,
)
from shared.contracts import (
    ContactEvent,
    envelope_for,
)
from shared.contracts.envelope import utcnow
from shared.internal import Caller
from shared.outbox import message_key

T = TypeVar("T")
SOURCE = "contacthub/contacts"


@dataclass(frozen=True)
class Lookup:
    """A contact found by identifier, with how many contacts the identifier matched."""

    contact: Contact
    matches: int
    custom_fields: list[CustomFieldDefinition]


@dataclass(frozen=True)
class Page:
    """One page of a contact list."""

    contacts: list[Contact]
    custom_fields: list[CustomFieldDefinition]
    has_next: bool
    has_previous: bool


class UseCases:
    """Dependencies and shared steps of the contacts use cases (see `ContactsService`)."""

    def __init__(
        self,
        *,
        transactions: TransactionRunner,
        contacts: ContactRepository,
        catalog: CatalogRepository,
        outbox: EventOutbox,
        topic: str,
        clock: Callable[[], datetime] = utcnow,
        tag_batch_size: int = 100,
    ):
        self._transactions = transactions
        self._contacts = contacts
        self._catalog = catalog
        self._outbox = outbox
        self._topic = topic
        self._clock = clock
        self._tag_batch = tag_batch_size

    # plumbing ---------------------------------------------------------------------------
    async def _commit(self, work: Callable[[Session], Awaitable[T]]) -> T:
        result = await self._transactions.run(work)
        self._outbox.committed()
        return result

    async def _emit(
        self, session: Session, contact: Contact, event: ContactEvent
    ) -> None:
        envelope = envelope_for(
            event, source=SOURCE, subject=f"contact/{contact.id}", workspace_id=contact.workspace_id
        )
        await self._outbox.add(
            session,
            topic=self._topic,
            key=message_key(contact.workspace_id, contact.id),
            envelope=envelope,
        )

    async def _require(
        self, caller: Caller, ident: Identifier, session: Session = None
    ) -> Contact:
        contact, _ = await self._contacts.resolve(caller.workspace_id, ident, session)
        if contact is None:
            raise NotFound.for_value("identifier", _shown(ident), "matches no contact")
        return contact

    def _ident(self, caller: Caller, raw: str) -> Identifier:
        return parse_identifier(raw, default_region=caller.default_region)

    async def _retag(self, session: Session, contact: Contact, tags: list[str]) -> None:
        change = retag(contact, tags, now=self._clock())
        if change is not None:
            await self._save(session, change)

    async def _save(self, session: Session, change: ContactChange) -> None:
        await self._contacts.replace(change.contact, session)
        await self._emit(session, change.contact, change.event)

    async def _ordered_custom_fields(self, workspace_id: str) -> list[CustomFieldDefinition]:
        layout = await self._catalog.layout(workspace_id)
        return order_custom_fields(layout.custom_fields, layout.field_order)


def _shown(ident: Identifier) -> str:
    return f"{ident.kind}:{ident.value}"
