"""Messages and sender links: what the inbound consumer stores, and its rules (no I/O).

A **sender link** is one sender of one channel of a workspace (``<workspace>:<channel>:
<sender>``) and, once contacts answered, the contact it belongs to. Messages belong to the
link, not to the contact: a merge (next issue) moves links, never messages one by one.
A **message** is stored once: its key is ``<workspace>:<channel>:<provider message id>``, so a
provider retry or a redelivered event is a duplicate that changes nothing; its public
``messageId`` is an integer per workspace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.channels import InboundMessage
from shared.contracts.contacts import ContactOrigin, CreateContactForSender

StatusValue = Literal["pending", "sent", "delivered", "read", "failed"]
#: Sources whose senders are phone numbers (the sender's phone goes to the new contact).
PHONE_SOURCES = frozenset({"whatsapp_cloud", "twilio", "custom_channel"})
EMAIL_SOURCES = frozenset({"gmail", "other_email"})


def link_key(workspace_id: str, channel_id: int, sender_id: str) -> str:
    """The id of a sender link (also the inbound topic's Kafka key)."""
    return f"{workspace_id}:{channel_id}:{sender_id}"


def message_key(workspace_id: str, channel_id: int, provider_message_id: str) -> str:
    """The stored id of a message: one per provider message id of a channel."""
    return f"{workspace_id}:{channel_id}:{provider_message_id}"


class StatusEntry(BaseModel):
    """One step of a message's delivery (respond.io's ``status[]``)."""

    model_config = ConfigDict(frozen=True)

    value: StatusValue
    at: datetime
    error: str | None = None


class SenderLink(BaseModel):
    """A channel sender of a workspace and the contact it belongs to (None until contacts
    answered the ``contact.create_for_sender`` the first message sent)."""

    model_config = ConfigDict(frozen=True)

    workspace_id: str
    channel_id: int
    sender_id: str
    source: str
    contact_id: int | None = None
    #: The contact version that set ``contact_id`` (a replayed older event changes nothing).
    contact_version: int | None = None
    first_message_at: datetime
    last_message_at: datetime

    @property
    def key(self) -> str:
        """The link's id."""
        return link_key(self.workspace_id, self.channel_id, self.sender_id)


class StoredMessage(BaseModel):
    """A message of a sender link, as stored and answered."""

    model_config = ConfigDict(frozen=True)

    workspace_id: str
    id: int = Field(ge=1, description="messageId: an integer per workspace")
    channel_id: int
    sender_id: str
    link: str
    provider_message_id: str
    traffic: Literal["incoming", "outgoing"]
    message: dict[str, Any]
    sent_at: datetime
    received_at: datetime
    reply_to: str | None = None
    status: tuple[StatusEntry, ...] = ()

    @property
    def key(self) -> str:
        """The message's stored id (its dedup key)."""
        return message_key(self.workspace_id, self.channel_id, self.provider_message_id)


def incoming(data: InboundMessage, *, workspace_id: str, message_id: int,
             received_at: datetime) -> StoredMessage:
    """The stored form of an inbound message (id ``message_id``), delivered to the workspace
    when it was received."""
    return StoredMessage(
        workspace_id=workspace_id, id=message_id, channel_id=data.channel_id,
        sender_id=data.sender_id,
        link=link_key(workspace_id, data.channel_id, data.sender_id),
        provider_message_id=data.provider_message_id, traffic="incoming",
        message=dict(data.message), sent_at=data.sent_at, received_at=received_at,
        reply_to=data.reply_to, status=(StatusEntry(value="delivered", at=received_at),),
    )


def create_for_sender(data: InboundMessage) -> CreateContactForSender:
    """The command asking contacts for the sender's contact, with what the channel knows:
    names, picture, language; the phone of a phone sender (as delivered), the email of an
    email sender."""
    profile = data.profile
    phone = profile.phone if data.source in PHONE_SOURCES else None
    email = profile.email
    if data.source in EMAIL_SOURCES and email is None and "@" in data.sender_id:
        email = data.sender_id
    return CreateContactForSender(
        origin=ContactOrigin(channel_id=data.channel_id, sender_id=data.sender_id),
        first_name=profile.first_name, last_name=profile.last_name, phone=phone,
        email=email, language=profile.language, profile_pic=profile.profile_pic,
    )


def sender_command_key(workspace_id: str, channel_id: int, sender_id: str) -> str:
    """The Kafka key of ``contact.create_for_sender`` (contacts' per-sender ordering)."""
    return f"{workspace_id}:sender:{channel_id}:{sender_id}"


def links_to(link: SenderLink | None, *, contact_id: int, version: int) -> bool:
    """Whether a contact event (``contact.created`` with origin, ``contact.sender_linked``)
    sets the link's contact: a link without a contact takes it; a link of the same contact
    takes a newer version; an older or repeated event, or another contact (a merge moves
    links by its own event), changes nothing."""
    if link is None:
        return False
    if link.contact_id is None:
        return True
    return link.contact_id == contact_id and version > (link.contact_version or 0)
