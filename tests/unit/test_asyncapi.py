"""The committed AsyncAPI document of contacts.events.v1 is the one the code generates."""

import json
from pathlib import Path

from services.contacts.app import asyncapi_document
from services.contacts.settings import ContactsSettings
from shared.contracts.contacts import CONTACT_EVENTS

COMMITTED = Path(__file__).parents[2] / "docs" / "asyncapi" / "contacts.json"


def generated() -> dict[str, object]:
    return asyncapi_document(ContactsSettings(internal_token="unit-test-token-0123456789"))


def test_committed_document_is_current() -> None:
    assert json.loads(COMMITTED.read_text()) == generated(), (
        "docs/asyncapi/contacts.json is stale: run `make asyncapi`"
    )


def test_every_contact_event_is_documented_with_its_payload_fields() -> None:
    document = json.dumps(generated())
    for event in CONTACT_EVENTS:
        assert f"contacts.events.v1:{event.TYPE}" in document
    assert "blocked_by" in document  # the workflow engine reads contact.blocked from here
    assert "workspaceid" in document
