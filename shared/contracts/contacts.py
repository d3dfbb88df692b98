"""Events of the ``contacts`` service (``topics.contacts_events``) and its commands
(``topics.contacts_commands``).

Every event carries the contact's ``version`` (monotonically increasing per contact,
starting at 1): a consumer applies a state change only when its version is newer than
the one it stored. ``contact.sender_linked`` changes nothing and repeats the current
version: it re-announces which contact a channel sender belongs to.
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
    phone: str | None = Field(
        default=None, examples=["+33612345678"],
        description="E.164; a number a provider delivered is kept as delivered",
    )
    phone_canonical: str | None = Field(
        default=None, examples=["+5511987654321"],
        description="The canonical E.164 form of `phone`, for lookups and duplicate detection "
        "(differs from `phone` for WhatsApp's legacy Brazilian and Mexican forms)",
    )
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2")
    language: str | None = Field(default=None, description="ISO 639-1 or BCP-47 tag")
    profile_pic: str | None = None
    assignee: int | None = Field(default=None, ge=1, description="User id of the assignee "
                                 "(integer, per workspace)", examples=[2])
    status: Literal["open", "close"] | None = None
    blocked: bool = False
    tags: tuple[str, ...] = ()
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class ContactEvent(Payload):
    """Fields common to every contact event."""

    contact_id: int = Field(description="Contact id, unique within the workspace", examples=[42])
    version: int = Field(ge=1, description="The contact's version after this change")


class ContactOrigin(BaseModel):
    """The channel sender a contact was created for (or is linked to)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel_id: int = Field(ge=1, description="Channel id, unique within the workspace")
    sender_id: str = Field(min_length=1, max_length=255,
                           description="The sender's id on the channel (wa_id, PSID, number…)",
                           examples=["5511987654321"])


class ContactCreated(ContactEvent):
    """A contact was created; ``origin`` names the channel sender it was created for, if any."""

    TYPE: ClassVar[str] = "contact.created"
    contact: ContactState
    origin: ContactOrigin | None = None


class ContactSenderLinked(ContactEvent):
    """A channel sender's contact already existed: which one it is (answers a repeated
    ``contact.create_for_sender``, so a sender that lost the first answer recovers it)."""

    TYPE: ClassVar[str] = "contact.sender_linked"
    origin: ContactOrigin


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
    ContactSenderLinked,
    ContactUpdated,
    ContactTagsChanged,
    ContactBlocked,
    ContactUnblocked,
    ContactDeleted,
)


class CreateContactForSender(Payload):
    """Create a contact for a new channel sender, once per (workspace, channel, sender).

    Key: ``<workspaceid>:sender:<channel_id>:<sender_id>``. A phone number delivered by a
    provider is never refused: it is stored as delivered with its canonical form beside
    it. The answer is an event: ``contact.created`` with this ``origin``, or, when the
    sender already has its contact, ``contact.sender_linked``.
    """

    TYPE: ClassVar[str] = "contact.create_for_sender"
    origin: ContactOrigin
    first_name: str | None = Field(default=None, max_length=255, examples=["Ann"])
    last_name: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=64, examples=["+5511987654321"],
                              description="As the provider delivered it")
    email: str | None = Field(default=None, max_length=320)
    language: str | None = Field(default=None, max_length=35)
    profile_pic: str | None = Field(default=None, max_length=2048)


CONTACT_COMMANDS: tuple[type[Payload], ...] = (CreateContactForSender,)
