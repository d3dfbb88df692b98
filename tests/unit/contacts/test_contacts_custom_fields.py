"""Custom field definitions and value validation."""

import pytest

from services.contacts.domain.custom_fields import CustomFieldDefinition, validate_custom_value
from services.contacts.domain.errors import InvalidValue


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
    ],
)
def test_invalid_definitions_are_refused(bad):
    with pytest.raises(InvalidValue):
        CustomFieldDefinition(**bad)


def test_definition_names_allow_letters_digits_space_underscore_dash():
    assert CustomFieldDefinition(name=" Código_postal-2 ", type="text").name == "Código_postal-2"
