"""What every contacts handler is given besides its command: `Deps`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.contacts.handlers.repositories import CatalogRepository, ContactRepository
from shared.contracts.envelope import utcnow
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Deps:
    """The repositories, the unit of work and the settings the handlers use (see `bootstrap`)."""

    uow: UnitOfWork
    contacts: ContactRepository
    catalog: CatalogRepository
    #: The topic contact events are published on (`contacts.events.v1`).
    topic: str
    clock: Callable[[], datetime] = utcnow
    #: Contacts updated per transaction when a catalog tag is renamed or deleted.
    tag_batch_size: int = 100
