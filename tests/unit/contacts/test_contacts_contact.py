"""The contact aggregate: patch parsing, update rules, API and stored shapes."""

from datetime import UTC, datetime, timedelta

import pytest

from services.contacts.api_shapes import parse_patch, to_api
from services.contacts.domain.contact import Contact, apply_patch
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import InvalidValue, NotFound
from services.contacts.store import from_document, to_document

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
DEFS = [
    CustomFieldDefinition(name="Tier", type="list", options=["Gold", "Silver"]),
    CustomFieldDefinition(name="Age", type="number"),
    CustomFieldDefinition(name="Mobile", type="phone"),
]


def patch(**body):
    return parse_patch(body)


def create(body, *, region=None):
    contact, _ = apply_patch(
        None,
        parse_patch(body),
        workspace_id="ws1",
        contact_id=7,
        default_region=region,
        custom_field_defs=DEFS,
        now=T0,
    )
    return contact


def update(contact, body, *, region=None):
    return apply_patch(
        contact,
        parse_patch(body),
        workspace_id="ws1",
        contact_id=7,
        default_region=region,
        custom_field_defs=DEFS,
        now=T1,
    )


def test_create_normalises_and_starts_at_version_1():
    contact, changed = apply_patch(
        None,
        patch(firstName=" Ann ", email="Ann@Example.com", phone="06 12 34 56 78", language="fr"),
        workspace_id="ws1",
        contact_id=7,
        default_region="FR",
        now=T0,
    )
    assert (contact.workspace_id, contact.id, contact.version) == ("ws1", 7, 1)
    assert contact.first_name == "Ann"
    assert (contact.email, contact.email_key) == ("Ann@Example.com", "ann@example.com")
    assert (contact.phone, contact.country_code, contact.country_manual) == (
        "+33612345678",
        "FR",
        False,
    )
    assert contact.created_at == contact.updated_at == T0
    assert changed == ["firstName", "email", "phone", "countryCode", "language"]


@pytest.mark.parametrize(
    ("phone", "country"),
    [("+33612345678", "FR"), ("+1 787 234 5678", "PR"), ("+44 1481 256789", "GG")],
)
def test_country_is_derived_from_the_phone(phone, country):
    assert create({"phone": phone}).country_code == country


def test_manual_country_is_kept_after_a_phone_change():
    contact = create({"phone": "+33612345678"})
    contact, changed = update(contact, {"countryCode": "be"})
    assert (contact.country_code, contact.country_manual, changed) == ("BE", True, ["countryCode"])
    contact, changed = update(contact, {"phone": "+1 787 234 5678"})
    assert (contact.phone, contact.country_code) == ("+17872345678", "BE")
    assert changed == ["phone"]


def test_clearing_the_country_re_derives_it_from_the_current_phone():
    contact = create({"phone": "+44 1481 256789", "countryCode": "FR"})
    assert (contact.country_code, contact.country_manual) == ("FR", True)
    contact, changed = update(contact, {"countryCode": None})
    assert (contact.country_code, contact.country_manual) == ("GG", False)
    assert changed == ["countryCode"]
    contact, _ = update(contact, {"phone": "+33612345678"})
    assert contact.country_code == "FR"


def test_clearing_the_phone_clears_a_derived_country_but_not_a_manual_one():
    derived, _ = update(create({"phone": "+33612345678"}), {"phone": None})
    assert (derived.phone, derived.country_code) == (None, None)
    manual, _ = update(create({"phone": "+33612345678", "countryCode": "BE"}), {"phone": None})
    assert manual.country_code == "BE"


def test_setting_the_derived_value_by_hand_pins_it():
    contact, changed = update(create({"phone": "+33612345678"}), {"countryCode": "FR"})
    assert (contact.country_manual, contact.version, changed) == (True, 2, ["countryCode"])


def test_national_phone_input_uses_the_workspace_default_region():
    contact, _ = update(create({}), {"phone": "(787) 234-5678"}, region="PR")
    assert (contact.phone, contact.country_code) == ("+17872345678", "PR")


def test_absent_fields_are_kept_and_null_clears():
    contact = create({"firstName": "Ann", "lastName": "Smith", "email": "ann@example.com"})
    contact, changed = update(contact, {"lastName": None})
    assert (contact.first_name, contact.last_name, contact.email) == (
        "Ann",
        None,
        "ann@example.com",
    )
    assert changed == ["lastName"]
    contact, changed = update(contact, {"email": None})
    assert (contact.email, contact.email_key, changed) == (None, None, ["email"])


def test_no_change_keeps_the_version_and_the_same_contact():
    contact = create({"firstName": "Ann", "phone": "+33612345678"})
    same, changed = update(contact, {"firstName": " Ann ", "phone": "+33 6 12 34 56 78"})
    assert changed == []
    assert same is contact
    assert same.version == 1
    assert same.updated_at == T0


def test_each_change_increments_the_version_and_updated_at():
    contact, _ = update(create({"firstName": "Ann"}), {"firstName": "Anne"})
    assert (contact.version, contact.updated_at, contact.created_at) == (2, T1, T0)
    contact, _ = update(contact, {"firstName": "Annie"})
    assert contact.version == 3


@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        ({"phone": "+33 12"}, "phone", '"+33 12"'),
        ({"email": "ann@"}, "email", '"ann@"'),
        ({"language": "klingon"}, "language", '"klingon"'),
        ({"countryCode": "UK"}, "countryCode", '"UK"'),
        ({"firstName": "a" * 256}, "firstName", '"aaaa'),
        ({"profilePic": "not a url"}, "profilePic", '"not a url"'),
        ({"custom_fields": [{"name": "Age", "value": "old"}]}, "custom_fields.Age", '"old"'),
        (
            {"custom_fields": [{"name": "Tier", "value": "Bronze"}]},
            "custom_fields.Tier",
            '"Bronze"',
        ),
        ({"custom_fields": [{"name": "Shoe", "value": 42}]}, "custom_fields", '"Shoe"'),
    ],
)
def test_invalid_values_are_refused_naming_field_and_value(body, field, value):
    with pytest.raises(InvalidValue) as err:
        update(create({}), body)
    assert err.value.field == field
    assert err.value.message.startswith(f"{field}: {value}")


def test_an_error_changes_nothing():
    contact = create({"firstName": "Ann", "phone": "+33612345678"})
    before = contact.model_dump()
    with pytest.raises(InvalidValue):
        update(
            contact,
            {
                "firstName": "Bob",
                "phone": "+447400123456",
                "custom_fields": [{"name": "Age", "value": 30}, {"name": "Tier", "value": "x"}],
            },
        )
    assert contact.model_dump() == before


def test_custom_fields_are_set_changed_and_cleared_one_by_one():
    contact, changed = update(
        create({}),
        {
            "custom_fields": [
                {"name": "Age", "value": "41"},
                {"name": "Mobile", "value": "0612345678"},
            ]
        },
        region="FR",
    )
    assert contact.custom_fields == {"Age": 41, "Mobile": "+33612345678"}
    assert changed == ["custom_fields.Age", "custom_fields.Mobile"]
    contact, changed = update(contact, {"custom_fields": [{"name": "Age", "value": None}]})
    assert contact.custom_fields == {"Mobile": "+33612345678"}
    assert changed == ["custom_fields.Age"]
    _, changed = update(contact, {"custom_fields": [{"name": "Age", "value": None}]})
    assert changed == []


def test_a_custom_field_given_twice_is_refused():
    body = {"custom_fields": [{"name": "Age", "value": 1}, {"name": "Age", "value": 2}]}
    with pytest.raises(InvalidValue) as err:
        update(create({}), body)
    assert err.value.field == "custom_fields"


@pytest.mark.parametrize("field", ["status", "blocked", "id", "tags", "created_at", "lifecycle"])
def test_read_only_fields_are_refused(field):
    with pytest.raises(InvalidValue) as err:
        parse_patch({"firstName": "Ann", field: "x"})
    assert err.value.field == field
    assert "read-only" in err.value.message


def test_unknown_fields_are_refused():
    with pytest.raises(InvalidValue) as err:
        parse_patch({"first_nam": "Ann"})
    assert (err.value.field, err.value.message) == ("first_nam", "first_nam: unknown field")


def test_wrong_json_types_are_refused_with_api_field_names():
    with pytest.raises(InvalidValue) as err:
        parse_patch({"firstName": 12})
    assert err.value.field == "firstName"
    assert err.value.message.startswith("firstName: 12")
    with pytest.raises(InvalidValue) as err:
        parse_patch({"custom_fields": [{"name": "Age", "value": 1, "x": 2}]})
    assert err.value.field == "custom_fields.0.x"
    with pytest.raises(InvalidValue):
        parse_patch(["not", "an", "object"])


def test_absent_and_null_differ_in_the_patch():
    assert patch(firstName=None).model_fields_set == {"first_name"}
    assert patch().model_fields_set == set()


def test_a_contact_of_another_workspace_is_not_found():
    contact = create({})
    with pytest.raises(NotFound):
        apply_patch(
            contact,
            patch(firstName="x"),
            workspace_id="ws2",
            contact_id=7,
            default_region=None,
            now=T1,
        )


def test_api_shape():
    contact = create(
        {
            "firstName": "Ann",
            "phone": "+33612345678",
            "custom_fields": [{"name": "Age", "value": 41}, {"name": "Tier", "value": "Gold"}],
        }
    ).model_copy(update={"tags": ["VIP"], "status": "open"})
    api = to_api(contact, custom_field_defs=DEFS)
    assert api == {
        "id": 7,
        "firstName": "Ann",
        "lastName": None,
        "phone": "+33612345678",
        "email": None,
        "language": None,
        "profilePic": None,
        "countryCode": "FR",
        "status": "open",
        "tags": ["VIP"],
        "assignee": None,
        "lifecycle": None,
        "custom_fields": [
            {"name": "Tier", "value": "Gold"},
            {"name": "Age", "value": 41},
            {"name": "Mobile", "value": None},
        ],
        "created_at": int(T0.timestamp()),
        "blocked": False,
    }
    assert to_api(contact)["custom_fields"] == [
        {"name": "Age", "value": 41},
        {"name": "Tier", "value": "Gold"},
    ]


def test_stored_document_round_trips():
    contact = create({"email": "Ann@Example.com", "phone": "+33612345678"}).model_copy(
        update={"tags": ["VIP", "Lead"]}
    )
    doc = to_document(contact)
    assert doc["_id"] == "ws1:7"
    assert doc["tag_keys"] == ["vip", "lead"]
    assert doc["email_key"] == "ann@example.com"
    assert doc["phone_canonical"] == "+33612345678"
    assert set(doc) == {
        "_id", "workspace_id", "id", "first_name", "last_name", "email", "email_key", "phone",
        "phone_canonical", "country_code", "country_manual", "language", "profile_pic",
        "assignee", "status", "lifecycle", "blocked", "tags", "tag_keys", "custom_fields",
        "created_at",
        "updated_at", "version", "search_text", "list_keys", "wid",
    }  # fmt: skip
    assert doc["search_text"] == "ann@example.com\n+33612345678"
    assert doc["wid"] == "ws1:0000000000000000007"
    keys = doc["list_keys"]
    assert {f"ws1:{k}:{7:019d}" for k in ("g:ann", "g:678", "tag:vip", "tag:lead")} <= set(keys)
    assert not [k for k in keys if "\n" in k]  # pieces never cross fields
    assert from_document(doc) == contact


def test_naive_datetimes_from_mongodb_are_read_as_utc():
    doc = to_document(create({}))
    doc["created_at"] = doc["updated_at"] = T0.replace(tzinfo=None)
    assert from_document(doc).created_at == T0


def test_contact_is_immutable():
    contact = create({})
    with pytest.raises(ValueError):
        contact.first_name = "x"  # type: ignore[misc]
    assert isinstance(contact, Contact)
