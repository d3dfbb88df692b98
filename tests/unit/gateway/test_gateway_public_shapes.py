"""The public shapes the gateway documents (``shared/api``) are the ones the contacts service
reads and writes: the same field names, the same constants."""

from __future__ import annotations

from datetime import UTC, datetime

from services.contacts.api_shapes import to_api
from services.contacts.domain import custom_fields, listing, permissions, tags
from services.contacts.domain.contact import Contact, ContactPatch
from shared.api import contacts as api_contacts
from shared.api import space as api_space
from shared.api.roles import MANAGERS


def test_a_contact_as_contacts_answers_it_has_exactly_the_documented_fields() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    shown = to_api(Contact(workspace_id="ws", id=1, created_at=now, updated_at=now))
    assert set(shown) == set(api_contacts.Contact.model_fields)
    api_contacts.Contact.model_validate(shown)


def test_the_documented_contact_input_is_what_contacts_accepts() -> None:
    accepted = {info.alias or name for name, info in ContactPatch.model_fields.items()}
    assert accepted == set(api_contacts.ContactInput.model_fields)


def test_contacts_uses_the_public_constants_themselves() -> None:
    assert listing.OPERATORS is api_contacts.OPERATORS
    assert listing.CATEGORIES is api_contacts.CATEGORIES
    assert custom_fields.CustomFieldType is api_space.CustomFieldType
    assert permissions.DELETERS is MANAGERS
    assert tags.TAGS_PER_CALL_MAX == api_contacts.TAGS_PER_CALL_MAX
    assert tags.TAG_NAME_MAX_CHARS == api_space.TAG_NAME_MAX_CHARS
