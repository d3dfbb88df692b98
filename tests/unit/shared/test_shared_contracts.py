"""The message contracts: every registered event survives bytes → ``parse`` unchanged, and
anything else is refused with a precise error; envelope defaults are per message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts import (
    REGISTRY,
    ContactBlocked,
    ContactCreated,
    ContactDeleted,
    ContactOrigin,
    ContactSenderLinked,
    ContactState,
    ContactTagsChanged,
    ContactUnblocked,
    ContactUpdated,
    CreateContactForSender,
    Envelope,
    Payload,
    UnknownMessageType,
    envelope_for,
    parse,
)
from shared.contracts.contacts import CONTACT_COMMANDS, CONTACT_EVENTS

CREATED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
STATE = ContactState(first_name="Ann", email="ann@example.com", phone="+33612345678",
                     tags=("vip",), custom_fields={"plan": "gold", "seats": 3},
                     created_at=CREATED_AT)

EXAMPLES: list[Payload] = [
    ContactCreated(contact_id=1, version=1, contact=STATE),
    ContactUpdated(contact_id=1, version=2, changed=("phone", "countryCode"), contact=STATE),
    ContactTagsChanged(contact_id=1, version=3, added=("vip",), removed=("old",), tags=("vip",)),
    ContactBlocked(contact_id=1, version=4, blocked_by="usr_1"),
    ContactUnblocked(contact_id=1, version=5),
    ContactDeleted(contact_id=1, version=6, deleted_by="usr_1", email="ann@example.com"),
    ContactSenderLinked(contact_id=1, version=6,
                        origin=ContactOrigin(channel_id=3, sender_id="5511987654321")),
]
COMMAND_EXAMPLES: list[Payload] = [
    CreateContactForSender(origin=ContactOrigin(channel_id=3, sender_id="5511987654321"),
                           first_name="Ana", phone="551187654321"),
]


def wire(data: Payload) -> bytes:
    """The bytes a producer puts on the topic for ``data``."""
    return envelope_for(data, source="contacthub/contacts", subject="contact/1",
                        workspace_id="ws_1").model_dump_json().encode()


def as_dict(data: Payload) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(wire(data))
    return raw


def test_every_contact_event_is_registered_under_its_type() -> None:
    assert {m.TYPE for m in EXAMPLES} == {m.TYPE for m in CONTACT_EVENTS}
    assert {m.TYPE for m in COMMAND_EXAMPLES} == {m.TYPE for m in CONTACT_COMMANDS}
    for model in (*CONTACT_EVENTS, *CONTACT_COMMANDS):
        assert REGISTRY[model.TYPE] is model


@pytest.mark.parametrize("data", EXAMPLES + COMMAND_EXAMPLES, ids=lambda d: d.TYPE)
def test_parse_gives_back_the_envelope_that_was_sent(data: Payload) -> None:
    sent = envelope_for(data, source="contacthub/contacts", subject="contact/1",
                        workspace_id="ws_1")
    received = parse(sent.model_dump_json().encode())
    assert type(received.data) is type(data)
    assert received.data == data
    assert received.model_dump() == sent.model_dump()
    assert received.type == data.TYPE
    assert parse(sent.model_dump_json()) == received, "str works as well as bytes"


def test_envelope_for_fills_the_cloudevents_attributes() -> None:
    envelope = envelope_for(ContactBlocked(contact_id=42, version=7), source="contacthub/x",
                            subject="contact/42", workspace_id="ws_9")
    assert (envelope.specversion, envelope.type, envelope.source, envelope.subject,
            envelope.workspaceid, envelope.datacontenttype) == (
        "1.0", "contact.blocked", "contacthub/x", "contact/42", "ws_9", "application/json")


def test_an_unknown_type_is_refused_naming_the_type() -> None:
    raw = as_dict(ContactBlocked(contact_id=1, version=1))
    raw["type"] = "contact.teleported"
    with pytest.raises(UnknownMessageType, match="'contact.teleported'"):
        parse(json.dumps(raw))
    assert issubclass(UnknownMessageType, ValueError)


@pytest.mark.parametrize(
    ("name", "raw", "field"),
    [
        ("not json", b"\x00{not json", None),
        ("empty", b"", None),
        ("a json list", b"[]", None),
        ("no id", None, "id"),
        ("no type", None, "type"),
        ("no workspaceid", None, "workspaceid"),
        ("wrong specversion", None, "specversion"),
        ("unknown attribute", None, "colour"),
        ("data not an object", None, "data"),
    ],
)
def test_a_malformed_envelope_is_refused(name: str, raw: bytes | None, field: str | None
                                         ) -> None:
    if raw is None:
        envelope = as_dict(ContactBlocked(contact_id=1, version=1))
        match name:
            case "wrong specversion":
                envelope["specversion"] = "0.3"
            case "unknown attribute":
                envelope["colour"] = "red"
            case "data not an object":
                envelope["data"] = "blocked"
            case _:
                del envelope[field]  # type: ignore[arg-type]
        raw = json.dumps(envelope).encode()
    with pytest.raises(ValidationError) as caught:
        parse(raw)
    if field is not None:
        assert field in {str(p) for e in caught.value.errors() for p in e["loc"]}, caught.value


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"contact_id": "abc", "version": 1}, "contact_id"),
        ({"contact_id": 1, "version": 0}, "version"),
        ({"contact_id": 1}, "version"),
        ({"contact_id": 1, "version": 1, "blocked_by": "u", "extra": True}, "extra"),
    ],
)
def test_invalid_data_of_a_known_type_is_refused_naming_the_field(
    data: dict[str, Any], field: str
) -> None:
    envelope = as_dict(ContactBlocked(contact_id=1, version=1))
    envelope["data"] = data
    with pytest.raises(ValidationError) as caught:
        parse(json.dumps(envelope))
    assert field in {str(p) for e in caught.value.errors() for p in e["loc"]}


def test_envelope_defaults_are_made_per_envelope() -> None:
    data = ContactBlocked(contact_id=1, version=1)
    first = Envelope[ContactBlocked](source="s", type=data.TYPE, subject="contact/1",
                                     workspaceid="ws", data=data)
    second = Envelope[ContactBlocked](source="s", type=data.TYPE, subject="contact/1",
                                      workspaceid="ws", data=data)
    assert first.id != second.id
    assert len(first.id) == 32 and int(first.id, 16) >= 0
    assert first.time <= second.time
    assert first.time.tzinfo is not None and first.time.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - first.time) < timedelta(seconds=5)
    ids = {envelope_for(data, source="s", subject="contact/1", workspace_id="ws").id
           for _ in range(100)}
    assert len(ids) == 100


def test_envelope_time_is_the_creation_time_not_the_import_time() -> None:
    data = ContactBlocked(contact_id=1, version=1)
    before = datetime.now(UTC)
    envelope = envelope_for(data, source="s", subject="contact/1", workspace_id="ws")
    assert before <= envelope.time <= datetime.now(UTC)


def test_envelopes_and_payloads_are_immutable() -> None:
    envelope = envelope_for(ContactBlocked(contact_id=1, version=1), source="s",
                            subject="contact/1", workspace_id="ws")
    with pytest.raises(ValidationError):
        envelope.id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        envelope.data.version = 2
