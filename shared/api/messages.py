"""Shapes of a contact's messages in the public API (respond.io's message object).

``GET /v2/contact/{identifier}/message/{messageId}`` answers one; ``…/message/list`` a page
of them, newest first. ``messageId`` is an integer per workspace; ``channelMessageId`` is the
provider's own id (WhatsApp's ``wamid…``, Twilio's ``SM…``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.api.pagination import Pagination


class MessageStatus(BaseModel):
    """One step of a message's delivery; an incoming message is ``delivered`` when it
    reached the workspace."""

    value: Literal["pending", "sent", "delivered", "read", "failed"]
    timestamp: int = Field(description="Unix seconds", examples=[1767259800])
    message: str | None = Field(default=None, description="Why it failed (failed only)")


class ContactMessage(BaseModel):
    """A message of a contact, as respond.io answers it."""

    messageId: int = Field(ge=1, description="Integer id, per workspace", examples=[17])
    channelMessageId: str = Field(description="The provider's message id",
                                  examples=["wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTdGOEE"])
    contactId: int = Field(examples=[42])
    channelId: int = Field(examples=[1])
    traffic: Literal["incoming", "outgoing"]
    message: dict[str, Any] = Field(
        description="respond.io's message object: {type: text, text} | {type: attachment, "
        "attachment} | {type: location, …} | {type: email, …} | …",
        examples=[{"type": "text", "text": "Hello!"}])
    status: list[MessageStatus]


class ContactMessageList(BaseModel):
    """One page of a contact's messages, newest first."""

    items: list[ContactMessage]
    pagination: Pagination
