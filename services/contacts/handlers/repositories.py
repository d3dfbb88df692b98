"""What the contacts handlers need from storage: one small repository protocol per aggregate.

`store.py` implements them on MongoDB (wired in `app.py`); `tests/support/contacts_memory.py`
in memory, for unit tests. Both pass one contract suite
(`tests/unit/contacts/contacts_store_contract.py`).

A `Session` is opaque to the handlers: the unit of work hands one to the work it runs
(`tx.session`), and the work passes it on to every read and write that belongs to the
transaction. `None` means "outside any transaction".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from services.contacts.domain.contact import Contact
from services.contacts.domain.contact_query import ContactQuery
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.identifiers import Identifier
from services.contacts.domain.tags import CatalogEntry, PendingTagChange, Tag
from shared.contracts import ContactOrigin

#: The transaction handle of one implementation (a pymongo session, a memory token).
Session = Any


@dataclass(frozen=True)
class Layout:
    """How a workspace's contact details look: its custom fields and their order."""

    custom_fields: list[CustomFieldDefinition]
    field_order: list[str] | None


class ContactRepository(Protocol):
    """Contacts of every workspace; every read is scoped to one workspace."""

    async def next_id(self, workspace_id: str, session: Session) -> int:
        """Allocate the workspace's next contact id (never reused, even when a use case fails)."""
        ...

    async def claim_identifier(
        self, workspace_id: str, ident: Identifier, session: Session
    ) -> None:
        """Make concurrent upserts of one `email:`/`phone:` identifier conflict."""
        ...

    async def get(
        self, workspace_id: str, contact_id: int, session: Session = None
    ) -> Contact | None:
        """The contact, or None."""
        ...

    async def resolve(
        self, workspace_id: str, ident: Identifier, session: Session = None
    ) -> tuple[Contact | None, int]:
        """The contact an identifier names (oldest match) and how many contacts match it."""
        ...

    async def insert(self, contact: Contact, session: Session) -> None:
        """Store a new contact."""
        ...

    async def replace(self, contact: Contact, session: Session) -> None:
        """Store `contact` over version `contact.version - 1`; `Conflict` when that is gone."""
        ...

    async def delete(self, contact: Contact, session: Session) -> None:
        """Remove a contact for good."""
        ...

    async def page(
        self, query: ContactQuery, *, after: int | None, before: int | None, limit: int
    ) -> list[Contact]:
        """Up to `limit` matching contacts, newest first; ids below `after` / above `before`."""
        ...

    async def exists(self, query: ContactQuery, *, above: int | None = None) -> bool:
        """Whether any contact matches (with an id above `above`, when given)."""
        ...

    async def with_tag(
        self, workspace_id: str, key: str, *, after: int, limit: int
    ) -> list[Contact]:
        """Contacts carrying a tag (by key) with ids above `after`, oldest first."""
        ...

    # in bulk, for batches of commands
    async def next_ids(self, workspace_id: str, count: int) -> list[int]:
        """Allocate `count` consecutive ids at once (outside any transaction)."""
        ...

    async def get_many(
        self, workspace_id: str, contact_ids: Collection[int], session: Session
    ) -> dict[int, Contact]:
        """The contacts of these ids that exist, by id."""
        ...

    async def insert_many(self, contacts: Sequence[Contact], session: Session) -> None:
        """Store new contacts."""
        ...

    async def sender_contacts(
        self, workspace_id: str, origins: Collection[ContactOrigin], session: Session
    ) -> dict[ContactOrigin, int]:
        """The contacts made for these channel senders, by sender."""
        ...

    async def link_senders(
        self, workspace_id: str, links: Mapping[ContactOrigin, int], session: Session
    ) -> None:
        """Name each sender's contact (a sender with a link already: unlink it first)."""
        ...

    async def unlink_senders(
        self, workspace_id: str, origins: Collection[ContactOrigin], session: Session
    ) -> None:
        """Forget these senders' links (their contacts are gone)."""
        ...


class CatalogRepository(Protocol):
    """The workspace catalog: tags, custom field definitions, the details-view field order."""

    async def tags(self, workspace_id: str, session: Session = None) -> list[Tag]:
        """Every tag of the workspace by key, without a rename's reserved new name."""
        ...

    async def entry(self, workspace_id: str, key: str, session: Session) -> CatalogEntry | None:
        """The catalog entry of a tag key, with its pending change or reservation, or None."""
        ...

    async def ensure_tags(
        self, workspace_id: str, names: list[str], session: Session
    ) -> dict[str, str]:
        """Create the tags the catalog lacks (each takes an id); return tag_key → the name to
        assign."""
        ...

    async def next_tag_id(self, workspace_id: str) -> int:
        """Allocate the workspace's next tag id (outside transactions; never reused)."""
        ...

    async def create_tag(self, workspace_id: str, tag: Tag, session: Session) -> None:
        """Add a tag (with its id); `Conflict` when the name (case-insensitively) is taken."""
        ...

    async def save_tag(self, workspace_id: str, tag: Tag, session: Session) -> None:
        """Restyle a tag (same key)."""
        ...

    async def reserve(self, workspace_id: str, tag: Tag, *, for_key: str, session: Session) -> None:
        """Reserve a rename's new key for the tag `for_key`; `Conflict` when it is taken."""
        ...

    async def mark(
        self, workspace_id: str, key: str, pending: PendingTagChange, session: Session
    ) -> None:
        """Record that a rename or deletion of the tag has started."""
        ...

    async def finish_rename(
        self, workspace_id: str, old_key: str, tag: Tag, session: Session
    ) -> None:
        """End a rename: the new entry takes the tag's name and style, the old key goes."""
        ...

    async def delete_tag(self, workspace_id: str, key: str, session: Session) -> None:
        """Remove a tag from the catalog."""
        ...

    async def layout(self, workspace_id: str, session: Session = None) -> Layout:
        """Custom field definitions (in creation order) and the saved field order."""
        ...

    async def custom_fields(
        self, workspace_id: str, session: Session = None
    ) -> list[CustomFieldDefinition]:
        """Definitions in the order they were created."""
        ...

    async def next_custom_field_id(self, workspace_id: str) -> int:
        """Allocate the workspace's next custom field id (outside transactions; never reused)."""
        ...

    async def create_custom_field(
        self, workspace_id: str, defn: CustomFieldDefinition, session: Session
    ) -> None:
        """Add a definition (with its id); `Conflict` when its name or slug is taken."""
        ...

    async def set_field_order(self, workspace_id: str, fields: list[str], session: Session) -> None:
        """Save the details-view order."""
        ...
