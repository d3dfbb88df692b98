"""Bad input the contacts rules refuse with a 422 naming the field and the value (issue 7):
control characters and lone surrogates in texts, Unicode digits, integers beyond what is
stored, a field order without its list; and the workspace settings only owners and managers
change, refused by the handlers themselves (not only by the gateway)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.contacts.api_shapes import (
    create_custom_field_command,
    create_tag_command,
    delete_tag_command,
    parse_field_order,
    parse_list_query,
    parse_patch,
    set_field_order_command,
    update_tag_command,
)
from services.contacts.app import bootstrap
from services.contacts.domain.contact import apply_patch
from services.contacts.domain.custom_fields import (
    NUMBER_INTEGER_MAX,
    CustomFieldDefinition,
    validate_custom_value,
)
from services.contacts.domain.errors import Forbidden, InvalidValue, parse_model, show
from services.contacts.domain.fields import check_text
from services.contacts.domain.identifiers import parse_identifier
from services.contacts.domain.listing import build_contact_query
from services.contacts.domain.tags import Tag, validate_tag_names
from services.contacts.handlers import Contacts
from services.contacts.handlers.commands import ListCustomFields, ListTags
from services.contacts.settings import ContactsSettings
from shared.internal import Caller, Role
from tests.support.contacts_memory import MemoryCatalogStore, MemoryContactStore, MemoryUnitOfWork

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
SCORE = CustomFieldDefinition(name="Score", type="number")
NOTES = CustomFieldDefinition(name="Notes", type="text")


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    """The message of the InvalidValue ``call`` raises."""
    with pytest.raises(InvalidValue) as caught:
        call(*args, **kwargs)
    return caught.value.message


# texts ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("char", ["\x00", "\x01", "\x07", "\x1b", "\x1f", "\x7f"])
def test_no_text_holds_a_control_character(char: str) -> None:
    for multiline in (False, True):
        message = refused(check_text, f"a{char}b", field="firstName", multiline=multiline)
        assert message.startswith("firstName: ") and f"U+{ord(char):04X}" in message


def test_tab_and_line_ends_only_in_multi_line_texts() -> None:
    for char in ("\t", "\n", "\r"):
        assert check_text(f"a{char}b", field="x", multiline=True) == f"a{char}b"
        assert f"U+{ord(char):04X}" in refused(check_text, f"a{char}b", field="x")


def test_a_lone_surrogate_is_no_text_and_its_message_can_be_sent() -> None:
    message = refused(check_text, "a\ud800", field="lastName", multiline=True)
    assert "lone surrogate" in message and "U+D800" in message
    message.encode("utf-8")  # the answer's body can be written
    assert show("a\udfffb") == '"a\\udfffb"'
    assert check_text("Ann 😀 é", field="x") == "Ann 😀 é"


def test_contact_texts_refuse_control_characters_where_they_are_stored() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"firstName": "A\x00B"}, "firstName"),
        ({"lastName": "A\tB"}, "lastName"),
        ({"email": "a\x00b@example.com"}, "email"),
        ({"profilePic": "https://x.example/\x00"}, "profilePic"),
        ({"custom_fields": [{"name": "Notes", "value": "a\x00b"}]}, "custom_fields.Notes"),
    ]
    for body, field in cases:
        message = refused(apply_patch, None, parse_patch(body), workspace_id="ws", contact_id=1,
                          default_region=None, custom_field_defs=[NOTES], now=NOW)
        assert message.startswith(f"{field}: "), message
    created, _ = apply_patch(None, parse_patch({"firstName": " Ann\n", "custom_fields": [
        {"name": "Notes", "value": "one\r\ntwo\tthree"}]}), workspace_id="ws", contact_id=1,
        default_region=None, custom_field_defs=[NOTES], now=NOW)
    assert created.first_name == "Ann"  # surrounding whitespace is stripped, as always
    assert created.custom_fields["Notes"] == "one\r\ntwo\tthree"


def test_catalog_texts_refuse_control_characters() -> None:
    assert refused(validate_tag_names, ["ok", "a\x00b"]).startswith("tags: ")
    assert refused(parse_model, Tag, {"name": "a\nb"}).startswith("name: ")
    assert refused(parse_model, Tag, {"name": "t", "emoji": "\x07"}).startswith("emoji: ")
    assert refused(parse_model, Tag, {"name": "t", "description": "\x00"}).startswith(
        "description: ")
    assert parse_model(Tag, {"name": "t", "description": "a\n\tb"}).description == "a\n\tb"
    definition = {"name": "Tier", "dataType": "list", "allowedValues": ["a\x00"]}
    assert refused(parse_model, CustomFieldDefinition, definition).startswith("allowedValues: ")
    definition = {"name": "Tier", "dataType": "text", "description": "\x1b"}
    assert refused(parse_model, CustomFieldDefinition, definition).startswith("description: ")


def test_search_and_filter_texts_refuse_control_characters() -> None:
    assert refused(parse_list_query, {"search": "ann\x00"}).startswith("search: ")
    for condition, field in (
        ({"category": "contactField", "field": "firstName", "operator": "isEqualTo",
          "value": "a\x00"}, "filter.$and[0].value"),
        ({"category": "contactTag", "operator": "hasAnyOf", "value": ["a\x00"]},
         "filter.$and[0].value"),
    ):
        query = parse_list_query({"filter": {"$and": [condition]}})
        message = refused(build_contact_query, query, workspace_id="ws", blocked=None,
                          custom_field_defs=[])
        assert message.startswith(f"{field}: ") and "U+0000" in message


# digits and integers -------------------------------------------------------------------------
@pytest.mark.parametrize("digits", ["²", "①", "１", "٣", "1²", "𝟙"])
def test_ids_are_ascii_digits_only(digits: str) -> None:
    message = refused(parse_identifier, f"id:{digits}", default_region=None)
    assert message == f'identifier: "id:{digits}" is not a contact id'


@pytest.mark.parametrize("value", [10**30, -(10**30), NUMBER_INTEGER_MAX + 1,
                                   -(NUMBER_INTEGER_MAX + 1), str(10**30), "１", "1_000"])
def test_a_number_field_refuses_integers_it_cannot_hold_and_unicode_digits(value: Any) -> None:
    message = refused(validate_custom_value, SCORE, value, default_region=None)
    assert message.startswith("custom_fields.Score: ")


@pytest.mark.parametrize(("value", "stored"), [
    (NUMBER_INTEGER_MAX, NUMBER_INTEGER_MAX), (-NUMBER_INTEGER_MAX, -NUMBER_INTEGER_MAX),
    (1e30, 1e30), (-1e300, -1e300), (0, 0), ("42.5", 42.5), (" 7 ", 7), ("1e30", 1e30),
])
def test_a_number_field_holds_floats_and_integers_within_2_53(value: Any, stored: Any) -> None:
    assert validate_custom_value(SCORE, value, default_region=None) == stored


def _filter(field: str, operator: str, value: Any) -> Any:
    query = parse_list_query({"filter": {"$and": [
        {"category": "contactField", "field": field, "operator": operator, "value": value}]}})
    return build_contact_query(query, workspace_id="ws", blocked=None,
                               custom_field_defs=[SCORE])


def test_filter_numbers_are_bounded_like_stored_ones() -> None:
    for value in (10**30, 2**63, -(2**63) - 1, "１", 1e30):
        message = refused(_filter, "id", "isEqualTo", value)
        assert message.startswith("filter.$and[0].value: "), message
    assert _filter("id", "isEqualTo", 2**63 - 1).filter is not None
    for operator in ("isEqualTo", "isGreaterThan", "hasAnyOf"):
        value = [10**30] if operator == "hasAnyOf" else 10**30
        message = refused(_filter, "Score", operator, value)
        assert "2^53" in message, message
    assert _filter("Score", "isLessThan", 1e30).filter is not None


# the field order -----------------------------------------------------------------------------
@pytest.mark.parametrize("body", [None, {}, {"fields": None}, ["firstName"], {"fields": "x"},
                                  {"fields": [1]}])
def test_a_field_order_needs_its_list(body: Any) -> None:
    refused(parse_field_order, body)


def test_an_empty_field_order_is_the_default_one() -> None:
    assert parse_field_order({"fields": []}) == []


# workspace settings --------------------------------------------------------------------------
def _contacts() -> Contacts:
    store, catalog = MemoryContactStore(), MemoryCatalogStore()
    uow = MemoryUnitOfWork(store, catalog)
    settings = ContactsSettings(internal_token="x" * 16)
    return bootstrap(settings, uow=uow, contacts=store, catalog=catalog, clock=lambda: NOW)


def _caller(role: Role) -> Caller:
    return Caller(workspace_id="ws_1", user_id=f"usr_{role}", role=role)


async def test_only_owners_and_managers_change_the_workspace_settings() -> None:
    contacts = _contacts()
    owner, agent = _caller("owner"), _caller("agent")
    await contacts.handle(create_tag_command(owner, {"name": "vip"}))
    settings_changes = [
        lambda caller: create_tag_command(caller, {"name": "gold"}),
        lambda caller: update_tag_command(caller, {"currentName": "vip", "name": "VIP!"}),
        lambda caller: delete_tag_command(caller, {"name": "gold"}),
        lambda caller: create_custom_field_command(caller, {"name": "Plan", "dataType": "text"}),
        lambda caller: set_field_order_command(caller, {"fields": ["email"]}),
    ]
    for change in settings_changes:
        with pytest.raises(Forbidden) as caught:
            await contacts.handle(change(agent))
        assert "'agent'" in caught.value.message and caught.value.status == 403
    assert [t.name for t in await contacts.handle(ListTags(caller=owner))] == ["vip"]
    assert (await contacts.handle(ListCustomFields(caller=owner))).custom_fields == []
    manager = _caller("manager")
    for change in settings_changes:
        await contacts.handle(change(manager))


def test_a_time_zone_is_a_name_never_a_path() -> None:
    for zone in ("a" * 5000, "America", "/etc/passwd", "..", "Europe/Paris\x00"):
        assert refused(parse_list_query, {"timezone": zone}).startswith("timezone: ")
    assert parse_list_query({"timezone": "Europe/Paris"}).timezone == "Europe/Paris"


def test_a_message_naming_a_lone_surrogate_can_be_sent() -> None:
    message = refused(parse_patch, {"\ud800": 1})
    assert message == "\\ud800: unknown field"
