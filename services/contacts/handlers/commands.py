"""The commands and queries of the contacts service, one frozen dataclass each.

An entry point (an internal HTTP route, a Kafka subscriber) builds one from what it
received — parsed and validated already — and hands it to `Contacts.handle`, which calls
the one handler function registered for its type. `Message[T]` says what the handler
answers (`T`), so `await contacts.handle(CreateContact(...))` is an `int` for mypy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from services.contacts.domain.contact import Contact, ContactPatch
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.identifiers import Identifier
from services.contacts.domain.listing import ListQuery
from services.contacts.domain.tags import Tag, TagUpdate
from shared.internal import Caller

T = TypeVar("T")


@dataclass(frozen=True)
class Message(Generic[T]):
    """A command or query whose handler answers a `T`."""


# answers ---------------------------------------------------------------------------------
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


# queries ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GetContact(Message[Lookup]):
    """The contact an identifier names (the oldest when several match)."""

    caller: Caller
    identifier: Identifier


@dataclass(frozen=True)
class ListContacts(Message[Page]):
    """A page of contacts matching a search and filter, newest first."""

    caller: Caller
    query: ListQuery
    #: False (the default) hides blocked contacts, True lists only them, None lists everyone.
    blocked: bool | None
    limit: int
    #: The next page: contacts with ids below `after`; the previous page: ids above `before`.
    after: int | None = None
    before: int | None = None


@dataclass(frozen=True)
class ListTags(Message[list[Tag]]):
    """The workspace's tag catalog."""

    caller: Caller


@dataclass(frozen=True)
class CustomFieldPage:
    """One page of custom field definitions, by id."""

    custom_fields: list[CustomFieldDefinition]
    has_next: bool
    has_previous: bool


@dataclass(frozen=True)
class ListCustomFields(Message[CustomFieldPage]):
    """A page of custom field definitions by id (creation order)."""

    caller: Caller
    limit: int = 10
    #: The next page: definitions with ids above `after`; the previous page: below `before`.
    after: int | None = None
    before: int | None = None


@dataclass(frozen=True)
class GetCustomField(Message[CustomFieldDefinition]):
    """One custom field definition by id."""

    caller: Caller
    custom_field_id: int


@dataclass(frozen=True)
class GetFieldOrder(Message[list[str]]):
    """The details-view field order, complete."""

    caller: Caller


# commands on contacts --------------------------------------------------------------------
@dataclass(frozen=True)
class CreateContact(Message[int]):
    """Create a contact; `patch` already carries the identifier's field."""

    caller: Caller
    patch: ContactPatch


@dataclass(frozen=True)
class UpdateContact(Message[int]):
    """Change the fields a patch sends on the contact an identifier names."""

    caller: Caller
    identifier: Identifier
    patch: ContactPatch


@dataclass(frozen=True)
class UpsertContact(Message[int]):
    """Update the contact an `email:`/`phone:` identifier names, or create it."""

    caller: Caller
    identifier: Identifier
    #: What a create stores (the body with the identifier's field).
    create: ContactPatch
    #: What an update applies (the body alone: the matched contact keeps its spelling).
    update: ContactPatch


@dataclass(frozen=True)
class DeleteContact(Message[int]):
    """Delete a contact for good (owners and managers)."""

    caller: Caller
    identifier: Identifier


@dataclass(frozen=True)
class SetBlocked(Message[int]):
    """Block or unblock a contact."""

    caller: Caller
    identifier: Identifier
    blocked: bool


@dataclass(frozen=True)
class AddTags(Message[int]):
    """Assign tags by name (validated, de-duplicated)."""

    caller: Caller
    identifier: Identifier
    names: list[str]


@dataclass(frozen=True)
class RemoveTags(Message[int]):
    """Take tags off a contact by name."""

    caller: Caller
    identifier: Identifier
    names: list[str]


# commands on the catalog -----------------------------------------------------------------
@dataclass(frozen=True)
class CreateTag(Message[Tag]):
    """Add a tag to the catalog."""

    caller: Caller
    tag: Tag


@dataclass(frozen=True)
class UpdateTag(Message[Tag]):
    """Rename or restyle a catalog tag."""

    caller: Caller
    update: TagUpdate


@dataclass(frozen=True)
class DeleteTag(Message[None]):
    """Delete a catalog tag (and take it off every contact)."""

    caller: Caller
    name: str


@dataclass(frozen=True)
class CreateCustomField(Message[CustomFieldDefinition]):
    """Define a custom field."""

    caller: Caller
    definition: CustomFieldDefinition


@dataclass(frozen=True)
class SetFieldOrder(Message[list[str]]):
    """Save the details-view order; None saves the default one."""

    caller: Caller
    fields: list[str] | None
