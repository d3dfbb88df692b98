"""Custom field definitions and value validation."""

from datetime import UTC, datetime

import pytest

from services.contacts.api_shapes import create_custom_field_command, custom_field_to_api
from services.contacts.app import bootstrap
from services.contacts.domain.custom_fields import CustomFieldDefinition, validate_custom_value
from services.contacts.domain.errors import Conflict, InvalidValue, NotFound
from services.contacts.handlers import Contacts
from services.contacts.handlers.commands import GetCustomField, ListCustomFields
from services.contacts.settings import ContactsSettings
from shared.internal import Caller
from tests.support.contacts_memory import (
    MemoryCatalogStore,
    MemoryContactStore,
    MemoryUnitOfWork,
)


def defn(type_, name="Field", **extra):
    return CustomFieldDefinition(name=name, type=type_, **extra)


@pytest.mark.parametrize(
    ("type_", "options", "value", "stored"),
    [
        ("text", [], "hello", "hello"),
        ("number", [], 42, 42),
        ("number", [], 4.5, 4.5),
        ("number", [], " 12 ", 12),
        ("number", [], "1.25", 1.25),
        ("date", [], "2024-02-29", "2024-02-29"),
        ("time", [], "09:30", "09:30"),
        ("time", [], "09:30:00", "09:30"),  # zero seconds are left out: times sort as text
        ("time", [], "23:59:59", "23:59:59"),
        ("time", [], "00:00", "00:00"),
        ("list", ["Gold", "Silver"], "Gold", "Gold"),
        ("checkbox", [], False, False),
        ("email", [], " Ann@Example.com ", "Ann@Example.com"),
        ("phone", [], "06 12 34 56 78", "+33612345678"),
        ("url", [], "https://example.com/x", "https://example.com/x"),
    ],
)
def test_valid_values_are_stored_normalised(type_, options, value, stored):
    result = validate_custom_value(defn(type_, options=options), value, default_region="FR")
    assert result == stored
    assert type(result) is type(stored)


@pytest.mark.parametrize(
    ("type_", "options", "value"),
    [
        ("text", [], 12),
        ("text", [], "x" * 10_001),
        ("number", [], True),
        ("number", [], "twelve"),
        ("number", [], "nan"),
        ("number", [], [1]),
        ("date", [], "2024-02-30"),
        ("date", [], "29/02/2024"),
        ("date", [], "2024-02-29T10:00:00"),
        ("time", [], "9:30"),
        ("time", [], "24:00"),
        ("time", [], "12:60"),
        ("time", [], "12:30:60"),
        ("time", [], "12:30 PM"),
        ("time", [], "１２:３０"),
        ("time", [], 930),
        ("list", ["Gold", "Silver"], "gold"),
        ("checkbox", [], "true"),
        ("checkbox", [], 1),
        ("email", [], "not-an-email"),
        ("phone", [], "+33 12"),
        ("url", [], "javascript:alert(1)"),
    ],
)
def test_wrong_values_name_the_field_and_value(type_, options, value):
    with pytest.raises(InvalidValue) as err:
        validate_custom_value(defn(type_, options=options), value, default_region="FR")
    assert err.value.field == "custom_fields.Field"
    assert err.value.message.startswith("custom_fields.Field: ")


@pytest.mark.parametrize("type_", ["text", "number", "date", "checkbox", "phone"])
def test_none_clears_any_type(type_):
    assert validate_custom_value(defn(type_), None, default_region=None) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "", "type": "text"},
        {"name": "a" * 101, "type": "text"},
        {"name": "a.b", "type": "text"},
        {"name": "$where", "type": "text"},
        {"name": "Email", "type": "text"},  # a standard field's name
        {"name": "Tier", "type": "list"},  # options required
        {"name": "Tier", "type": "list", "options": ["a", "a"]},
        {"name": "Tier", "type": "text", "options": ["a"]},
        {"name": "Tier", "type": "text", "description": "d" * 501},
        {"name": "Tier", "type": "text", "slug": "a.b"},
        {"name": "Tier", "type": "text", "slug": "a" * 101},
        {"name": "Lifecycle", "type": "text"},  # a standard field's name
    ],
)
def test_invalid_definitions_are_refused(bad):
    with pytest.raises(InvalidValue):
        CustomFieldDefinition(**bad)


def test_definitions_read_respond_io_names_and_derive_the_slug():
    # what respond.io's n8n node sends for a text field left without slug and description
    sent = {"name": "Postal code-2", "slug": "", "description": "", "dataType": "text",
            "allowedValues": []}
    assert CustomFieldDefinition.model_validate(sent) == CustomFieldDefinition(
        name="Postal code-2", slug="postal_code_2", type="text")
    given = CustomFieldDefinition.model_validate(
        {"name": "Tier", "slug": "Tier_1", "dataType": "list", "allowedValues": ["a"]})
    assert (given.slug, given.type, given.options) == ("tier_1", "list", ["a"])
    assert CustomFieldDefinition(name="Plan", type="text", options=None).options == []


def test_definition_names_allow_letters_digits_space_underscore_dash():
    assert CustomFieldDefinition(name=" Código_postal-2 ", type="text").name == "Código_postal-2"


# the catalog's custom field handlers (respond.io's shape) ---------------------------------------
def _contacts() -> Contacts:
    store, catalog = MemoryContactStore(), MemoryCatalogStore()
    settings = ContactsSettings(internal_token="x" * 16)
    return bootstrap(settings, uow=MemoryUnitOfWork(store, catalog), contacts=store,
                     catalog=catalog, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))


OWNER = Caller(workspace_id="ws_1", user_id="usr_1", role="owner")


async def test_custom_fields_take_ids_per_workspace_and_are_found_by_id():
    contacts = _contacts()
    for name in ("Plan", "Score", "Since"):
        created = await contacts.handle(create_custom_field_command(
            OWNER, {"name": name, "dataType": "text"}))
        assert created.name == name
    other = OWNER.model_copy(update={"workspace_id": "ws_2"})
    made = await contacts.handle(create_custom_field_command(other, {"name": "X",
                                                                     "dataType": "time"}))
    assert made.id == 1
    found = await contacts.handle(GetCustomField(caller=OWNER, custom_field_id=2))
    assert (found.id, found.name, found.slug) == (2, "Score", "score")
    assert custom_field_to_api(found) == {"id": 2, "name": "Score", "slug": "score",
                                          "description": None, "dataType": "text",
                                          "allowedValues": None}
    with pytest.raises(NotFound):
        await contacts.handle(GetCustomField(caller=OWNER, custom_field_id=4))


async def test_a_taken_name_or_slug_is_a_conflict_naming_it():
    contacts = _contacts()
    await contacts.handle(create_custom_field_command(OWNER, {"name": "Plan", "dataType": "text"}))
    for body, field in (({"name": "Plan", "dataType": "number"}, "name"),
                        ({"name": "plan", "dataType": "number"}, "slug"),
                        ({"name": "Other", "slug": "PLAN", "dataType": "number"}, "slug")):
        with pytest.raises(Conflict) as caught:
            await contacts.handle(create_custom_field_command(OWNER, body))
        assert caught.value.field == field
    # a refused create leaves a gap in the ids, never a reuse
    made = await contacts.handle(create_custom_field_command(
        OWNER, {"name": "plan", "slug": "plan_2", "dataType": "text"}))
    assert made.id == 5


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Plan", "type": "text"}, "type"),
    ({"name": "Plan", "dataType": "text", "options": ["a"]}, "options"),
    ({"name": "Plan", "dataType": "text", "id": 3}, "id"),
    ({"name": "Plan"}, "dataType"),
    ({"name": "Plan", "dataType": "colour"}, "dataType"),
    ({"name": "Plan", "dataType": "text", "allowedValues": ["a"]}, "allowedValues"),
    (["Plan"], "body"),
])  # fmt: skip
def test_create_takes_respond_io_names_only(body, field):
    with pytest.raises(InvalidValue) as caught:
        create_custom_field_command(OWNER, body)
    assert caught.value.field == field


async def test_pages_of_custom_fields_by_id_both_ways():
    contacts = _contacts()
    for i in range(5):
        await contacts.handle(create_custom_field_command(
            OWNER, {"name": f"F{i}", "dataType": "number"}))

    async def page(**kwargs):
        found = await contacts.handle(ListCustomFields(caller=OWNER, limit=2, **kwargs))
        return [d.id for d in found.custom_fields], found.has_next, found.has_previous

    assert await page() == ([1, 2], True, False)
    assert await page(after=2) == ([3, 4], True, True)
    assert await page(after=4) == ([5], False, True)
    assert await page(after=5) == ([], False, False)
    assert await page(before=5) == ([3, 4], True, True)
    assert await page(before=3) == ([1, 2], True, False)
    assert await page(before=1) == ([], False, False)
