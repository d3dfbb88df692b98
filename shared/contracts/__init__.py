"""The message contracts of contacthub: the single source of truth for every message model.

Producers and consumers import the same classes from here. ``parse`` turns the
bytes of a Kafka record into a typed envelope using the type → model registry.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shared.contracts.channels import (
    CHANNEL_INBOUND,
    DeliveryStatus,
    InboundMessage,
    SenderProfile,
    Source,
)
from shared.contracts.contacts import (
    CONTACT_COMMANDS,
    CONTACT_EVENTS,
    ContactBlocked,
    ContactCreated,
    ContactDeleted,
    ContactEvent,
    ContactOrigin,
    ContactSenderLinked,
    ContactState,
    ContactTagsChanged,
    ContactUnblocked,
    ContactUpdated,
    CreateContactForSender,
)
from shared.contracts.envelope import Envelope, Payload, RawEnvelope, new_event_id, utcnow

#: type → payload model of every message the system knows.
REGISTRY: dict[str, type[Payload]] = {
    model.TYPE: model for model in (*CONTACT_EVENTS, *CONTACT_COMMANDS, *CHANNEL_INBOUND)
}


class UnknownMessageType(ValueError):
    """A message's ``type`` is not in the registry."""


def parse(raw: bytes | str) -> Envelope[Any]:
    """Validate a message's bytes into an envelope whose ``data`` is its registered model.

    Raises ``pydantic.ValidationError`` for a malformed envelope or payload and
    ``UnknownMessageType`` for a type nobody registered.
    """
    envelope = RawEnvelope.model_validate_json(raw)
    model = REGISTRY.get(envelope.type)
    if model is None:
        raise UnknownMessageType(f"type: {envelope.type!r} is not a known message type")
    data = model.model_validate(envelope.data)
    return Envelope[model].model_validate(  # type: ignore[valid-type]
        {**envelope.model_dump(exclude={"data"}), "data": data}
    )


def envelope_for(
    data: Payload, *, source: str, subject: str, workspace_id: str
) -> Envelope[Any]:
    """Wrap a payload in a new envelope of its registered type."""
    envelope: Envelope[Any] = Envelope[type(data)](  # type: ignore[misc,operator]
        source=source, type=data.TYPE, subject=subject, workspaceid=workspace_id, data=data
    )
    return envelope


__all__ = [
    "CHANNEL_INBOUND",
    "CONTACT_COMMANDS",
    "REGISTRY",
    "ContactBlocked",
    "ContactCreated",
    "ContactDeleted",
    "ContactEvent",
    "ContactOrigin",
    "ContactSenderLinked",
    "ContactState",
    "ContactTagsChanged",
    "ContactUnblocked",
    "ContactUpdated",
    "CreateContactForSender",
    "DeliveryStatus",
    "Envelope",
    "InboundMessage",
    "Payload",
    "SenderProfile",
    "Source",
    "UnknownMessageType",
    "ValidationError",
    "envelope_for",
    "new_event_id",
    "parse",
    "utcnow",
]
