"""Use cases of the contacts service: load, apply the domain rules, save with the event.

Every change commits the contact and its event (through the outbox) in one transaction;
a change that changes nothing commits nothing and publishes nothing. The use cases see
only the protocols of `ports.py`: `app.py` wires MongoDB, unit tests wire `memory.py`.
"""

from services.contacts.handlers.base import Lookup, Page
from services.contacts.handlers.catalog import CatalogUseCases
from services.contacts.handlers.contacts import ContactUseCases


class ContactsService(ContactUseCases, CatalogUseCases):
    """Every command and query on contacts and the workspace catalog."""


__all__ = ["ContactsService", "Lookup", "Page"]
