"""The CloudEvents 1.0 envelope every message of the system travels in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

Data = TypeVar("Data", bound=BaseModel)


def new_event_id() -> str:
    """A fresh, globally unique message id."""
    return uuid4().hex


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Payload(BaseModel):
    """Base of every message's ``data``: frozen, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: CloudEvents ``type`` of the message carrying this payload.
    TYPE: ClassVar[str]


class Envelope(BaseModel, Generic[Data]):
    """CloudEvents 1.0 attributes plus ``workspaceid``, with a typed ``data``.

    ``subject`` names the entity the message is about (``contact/42``) and the
    Kafka key is ``<workspaceid>:<entity id>`` so one entity's messages stay in
    order on one partition.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=new_event_id, description="Unique message id (dedup key).")
    source: str = Field(description="Producing service, e.g. `contacthub/contacts`.")
    type: str = Field(description="Event (past tense) or command (imperative) type.")
    time: datetime = Field(default_factory=utcnow)
    subject: str = Field(description="Entity the message is about, e.g. `contact/42`.")
    workspaceid: str = Field(description="Workspace the entity belongs to.")
    datacontenttype: Literal["application/json"] = "application/json"
    data: Data


class RawEnvelope(Envelope[Any]):
    """An envelope as received, whose ``data`` has not been bound to its model yet.

    ``id`` has no default here: a received message without one must be refused, not
    given a fresh id on every delivery (that would defeat the consumers' deduplication).
    """

    id: str = Field(description="Unique message id (dedup key), as the producer set it.")
    data: dict[str, Any]
