"""Events of the ``contacts`` service, published on ``topics.contacts_events``.

Every event carries the contact's new ``version`` (monotonically increasing per
contact, starting at 1): a consumer applies an event only when its version is
newer than the one it stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import Payload


class ContactState(BaseModel):
    """The contact's record as it is after the change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: str | None = Field(default=None, examples=["Ann"])
    last_name: str | None = Field(default=None, examples=["Lee"])
    email: str | None = Field(default=None, examples=["ann@example.com"])
    phone: str | None = Field(default=None, description="E.164", examples=["+33612345678"])
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2")
    language: str | None = Field(default=None, description="ISO 639-1 or BCP-47 tag")
    profile_pic: str | None = None
    assignee: str | None = Field(default=None, description="User id of the assignee")
    status: Literal["open", "close"] | None = None
    blocked: bool = False
    tags: tuple[str, ...] = ()
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class ContactEvent(Payload):
    """Fields common to every contact event."""

    contact_id: int = Field(description="Contact id, unique within the workspace", examples=[42])
    version: int = Field(ge=1, description="The contact's version after this change")


class ContactCreated(ContactEvent):
    """A contact was created."""

    TYPE: ClassVar[str] = "contact.created"
    contact: ContactState


class ContactUpdated(ContactEvent):
    """Standard or custom fields of a contact changed."""

    TYPE: ClassVar[str] = "contact.updated"
    changed: tuple[str, ...] = Field(description="API names of the fields that changed",
                                     examples=[["phone", "countryCode"]])
    contact: ContactState


class ContactTagsChanged(ContactEvent):
    """Tags were added to or removed from a contact."""

    TYPE: ClassVar[str] = "contact.tags_changed"
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    tags: tuple[str, ...] = Field(description="The contact's tags after the change")


class ContactBlocked(ContactEvent):
    """A contact was blocked: its workflows stop, its new messages are hidden."""

    TYPE: ClassVar[str] = "contact.blocked"
    blocked_by: str | None = Field(default=None, description="User id who blocked")


class ContactUnblocked(ContactEvent):
    """A contact was unblocked."""

    TYPE: ClassVar[str] = "contact.unblocked"
    unblocked_by: str | None = None


class ContactDeleted(ContactEvent):
    """A contact was deleted for good; its conversation history must be purged."""

    TYPE: ClassVar[str] = "contact.deleted"
    deleted_by: str | None = None
    email: str | None = Field(default=None, description="Last email, for index clean-up")
    phone: str | None = Field(default=None, description="Last phone, for index clean-up")


CONTACT_EVENTS: tuple[type[ContactEvent], ...] = (
    ContactCreated,
    ContactUpdated,
    ContactTagsChanged,
    ContactBlocked,
    ContactUnblocked,
    ContactDeleted,
)
