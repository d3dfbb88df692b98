"""The list request, the typed contact query it becomes, and that query's MongoDB filter.

Every case goes request → `build_contact_query` (the domain) → `store.mongo_filter`.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.contacts.api_shapes import parse_list_query
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import InvalidValue
from services.contacts.domain.listing import ListQuery, build_contact_query
from services.contacts.store import mongo_filter


def build_mongo_filter(query, **kwargs):
    """The MongoDB filter of a list request (the domain's query, translated by the store)."""
    return mongo_filter(build_contact_query(query, **kwargs))


FIRST = "filter.$and[0]"
VALUE, OPERATOR, FIELD = f"{FIRST}.value", f"{FIRST}.operator", f"{FIRST}.field"
DEFS = [
    CustomFieldDefinition(name="Age", type="number"),
    CustomFieldDefinition(name="Birthday", type="date"),
    CustomFieldDefinition(name="Tier", type="list", options=["Gold", "Silver"]),
    CustomFieldDefinition(name="Mobile", type="phone"),
]


def field(name, operator, value=None, category="contactField"):
    return {"category": category, "field": name, "operator": operator, "value": value}


def build(*conditions, combinator="$and", defs=None, timezone=None, region=None):
    body = {"filter": {combinator: list(conditions)}}
    if timezone:
        body["timezone"] = timezone
    return build_mongo_filter(
        parse_list_query(body),
        workspace_id="ws1",
        blocked=False,
        custom_field_defs=defs,
        default_region=region,
    )


def clauses(result):
    """The clauses of a filter besides workspace and blocked: its top-level fields (one
    clause each) then the items of its `$and`."""
    flat = [{k: v} for k, v in result.items() if k not in ("workspace_id", "blocked", "$and")]
    return flat + list(result.get("$and", ()))


def one(condition, **kwargs):
    """The single MongoDB clause a one-condition filter becomes."""
    result = build(condition, **kwargs)
    assert result["workspace_id"] == "ws1"
    assert result["blocked"] is False
    [clause] = clauses(result)
    return clause


def test_no_filter_no_search_is_the_workspace_only():
    assert build_mongo_filter(ListQuery(), workspace_id="ws1", blocked=None) == {
        "workspace_id": "ws1"
    }
    empty = parse_list_query({"search": "  ", "filter": {"$and": []}})
    assert build_mongo_filter(empty, workspace_id="ws1", blocked=True) == {
        "workspace_id": "ws1",
        "blocked": True,
    }


@pytest.mark.parametrize(
    ("condition", "clause"),
    [
        (field("firstName", "isEqualTo", "Ann"), {"first_name": "Ann"}),
        (field("lastName", "isNotEqualTo", "Smith"), {"last_name": {"$ne": "Smith"}}),
        (field("email", "isEqualTo", " Ann@Example.COM"), {"email_key": "ann@example.com"}),
        (field("phone", "isEqualTo", "+33 6 12 34 56 78"), {"phone": "+33612345678"}),
        (field("phone", "isEqualTo", "+33 12"), {"phone": "+33 12"}),  # not valid: kept as is
        (field("countryCode", "hasAnyOf", ["fr", "GG"]), {"country_code": {"$in": ["FR", "GG"]}}),
        (field("language", "hasNoneOf", ["pt-br"]), {"language": {"$nin": ["pt-BR"]}}),
        (field("assignee", "exists"), {"assignee": {"$nin": [None, ""]}}),
        (field("email", "doesNotExist"), {"email_key": {"$in": [None, ""]}}),
        (field("status", "isEqualTo", "open"), {"status": "open"}),
        (field("id", "isGreaterThan", 10), {"id": {"$gt": 10}}),
        (field("id", "isLessThan", "20"), {"id": {"$lt": 20}}),
        (field("id", "hasAnyOf", [1, "2"]), {"id": {"$in": [1, 2]}}),
        (
            field("created_at", "isTimestampAfter", 1_700_000_000),
            {"created_at": {"$gt": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)}},
        ),
        (
            field("created_at", "isTimestampBefore", "2024-01-01T00:00:00Z"),
            {"created_at": {"$lt": datetime(2024, 1, 1, tzinfo=UTC)}},
        ),
        (
            field("created_at", "isGreaterThan", "1700000000"),
            {"created_at": {"$gt": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)}},
        ),
        (field("Shoe size", "isEqualTo", 42), {"custom_fields.Shoe size": 42}),
        (field("Shoe size", "isGreaterThan", "41.5"), {"custom_fields.Shoe size": {"$gt": 41.5}}),
        (field("Since", "isLessThan", "2024-05"), {"custom_fields.Since": {"$lt": "2024-05"}}),
        (
            field("Since", "isTimestampAfter", "2024-05-01T23:30:00+00:00"),
            {"custom_fields.Since": {"$gt": "2024-05-01"}},
        ),
    ],
)
def test_conditions_without_definitions(condition, clause):
    assert one(condition) == clause


@pytest.mark.parametrize(
    ("condition", "clause"),
    [
        (field("Age", "isEqualTo", "41"), {"custom_fields.Age": 41}),
        (field("Age", "isGreaterThan", 18), {"custom_fields.Age": {"$gt": 18}}),
        (field("Tier", "hasAnyOf", ["Gold"]), {"custom_fields.Tier": {"$in": ["Gold"]}}),
        (field("Mobile", "isEqualTo", "06 12 34 56 78"), {"custom_fields.Mobile": "+33612345678"}),
        (
            field("Birthday", "isLessThan", "2000-01-01"),
            {"custom_fields.Birthday": {"$lt": "2000-01-01"}},
        ),
        (
            field("Birthday", "isTimestampBefore", 946_684_800),
            {"custom_fields.Birthday": {"$lt": "2000-01-01"}},
        ),
    ],
)
def test_conditions_on_defined_custom_fields(condition, clause):
    assert one(condition, defs=DEFS, region="FR") == clause


@pytest.mark.parametrize(
    ("operator", "clause"),
    [
        ("hasAnyOf", {"tag_keys": {"$in": ["vip", "lead"]}}),
        ("hasAllOf", {"tag_keys": {"$all": ["vip", "lead"]}}),
        ("hasNoneOf", {"tag_keys": {"$nin": ["vip", "lead"]}}),
    ],
)
def test_tag_conditions_match_case_insensitively(operator, clause):
    condition = {"category": "contactTag", "field": "tags", "operator": operator}
    assert one({**condition, "value": ["VIP", " Lead"]}) == clause
    assert one({"category": "contactTag", "operator": operator, "value": ["vip", "lead"]}) == clause


def test_tag_exists_and_does_not_exist():
    assert one(field("tags", "exists", category="contactTag")) == {"tag_keys.0": {"$exists": True}}
    assert one(field(None, "doesNotExist", category="contactTag")) == {
        "tag_keys.0": {"$exists": False}
    }


def test_iso_timestamps_without_offset_are_read_in_the_query_time_zone():
    clause = one(
        field("created_at", "isTimestampAfter", "2024-01-01"), timezone="Asia/Kuala_Lumpur"
    )
    assert clause == {"created_at": {"$gt": datetime(2023, 12, 31, 16, tzinfo=UTC)}}
    clause = one(field("created_at", "isTimestampAfter", "2024-01-01T00:00:00+02:00"),
                 timezone="Asia/Kuala_Lumpur")  # fmt: skip
    assert clause == {"created_at": {"$gt": datetime(2023, 12, 31, 22, tzinfo=UTC)}}


@pytest.mark.parametrize(("sent", "canonical"), [
    ("utc", "UTC"), ("UTC", "UTC"), ("europe/paris", "Europe/Paris"),
    ("ASIA/KUALA_LUMPUR", "Asia/Kuala_Lumpur"), ("america/argentina/buenos_aires",
                                                 "America/Argentina/Buenos_Aires"),
])
def test_time_zone_names_match_in_any_case_and_keep_the_canonical_spelling(sent, canonical):
    # respond.io's n8n node sends "timezone": "utc"
    assert parse_list_query({"timezone": sent, "search": "", "filter": {"$or": []}}).timezone \
        == canonical
    clause = one(field("created_at", "isTimestampAfter", "2024-01-01T00:00:00"), timezone=sent)
    moment = clause["created_at"]["$gt"]
    expected = datetime.fromisoformat("2024-01-01T00:00:00").replace(tzinfo=ZoneInfo(canonical))
    assert moment == expected.astimezone(UTC)


@pytest.mark.parametrize(("operator", "value", "clause"), [
    ("isEqualTo", " Lead ", {"lifecycle": "Lead"}),
    ("isNotEqualTo", "Lead", {"lifecycle": {"$ne": "Lead"}}),
    ("hasAnyOf", ["Lead", "Customer"], {"lifecycle": {"$in": ["Lead", "Customer"]}}),
    ("hasNoneOf", ["Lead"], {"lifecycle": {"$nin": ["Lead"]}}),
    ("exists", None, {"lifecycle": {"$nin": [None, ""]}}),
    ("doesNotExist", None, {"lifecycle": {"$in": [None, ""]}}),
])  # fmt: skip
def test_lifecycle_conditions_test_the_stage_by_name(operator, value, clause):
    for field_name in (None, "", "lifecycle"):
        assert one(field(field_name, operator, value, category="lifecycle")) == clause


def test_groups_nest_one_level():
    result = build(
        field("firstName", "isEqualTo", "Ann"),
        {
            "$or": [
                {"category": "contactTag", "operator": "hasAnyOf", "value": ["VIP"]},
                field("countryCode", "isEqualTo", "FR"),
            ]
        },
        combinator="$and",
    )
    # Conditions that must all hold are flat fields; the group stays an `$or` in `$and`.
    assert result["first_name"] == "Ann"
    assert result["$and"] == [
        {"$or": [{"tag_keys": {"$in": ["vip"]}}, {"country_code": "FR"}]},
    ]


def test_a_field_tested_twice_keeps_both_tests():
    result = build(field("firstName", "isEqualTo", "A"), field("firstName", "exists"))
    assert result["first_name"] == "A"
    assert result["$and"] == [{"first_name": {"$nin": [None, ""]}}]


def test_or_at_the_top():
    result = build(field("firstName", "isEqualTo", "A"), field("firstName", "isEqualTo", "B"),
                   combinator="$or")  # fmt: skip
    assert result["$and"] == [{"$or": [{"first_name": "A"}, {"first_name": "B"}]}]


def test_search_matches_every_word_in_a_searched_field():
    # One regex on the stored `search_text` (the searched fields, one per line): a lookahead
    # per word, so every word must occur, each in any field.
    query = parse_list_query({"search": " ann  sm.th "})
    result = build_mongo_filter(query, workspace_id="ws1", blocked=None)
    assert result == {
        "workspace_id": "ws1",
        "search_text": {"$regex": r"(?=[\s\S]*ann)(?=[\s\S]*sm\.th)", "$options": "i"},
    }
    single = build_mongo_filter(parse_list_query({"search": "Ann"}), workspace_id="ws1",
                                blocked=None)
    assert single["search_text"] == {"$regex": "Ann", "$options": "i"}


def test_phone_like_search_matches_digits_and_the_whole_number():
    query = parse_list_query({"search": "06 12 34 56 78"})
    result = build_mongo_filter(query, workspace_id="ws1", blocked=None, default_region="FR")
    assert result["$and"] == [
        {"$or": [{"phone": {"$regex": "0612345678"}}, {"phone": "+33612345678"}]}
    ]
    partial = build_mongo_filter(
        parse_list_query({"search": "+336"}), workspace_id="ws1", blocked=None
    )
    assert {"phone": {"$regex": r"\+336"}} in partial["$and"][0]["$or"]


@pytest.mark.parametrize(
    ("body", "field_name", "shown"),
    [
        ({"filter": {"$xor": []}}, "filter", '"$xor"'),
        ({"filter": {"$and": {}}}, "filter.$and", "{}"),
        ({"filter": {"$and": ["x"]}}, "filter.$and[0]", '"x"'),
        ({"filter": {"$and": [field("firstName", "like", "A")]}}, OPERATOR, '"like"'),
        ({"filter": {"$and": [field("firstName", "isEqualTo", "A", "segment")]}},
         "filter.$and[0].category", '"segment"'),
        ({"filter": {"$and": [{**field("firstName", "isEqualTo", "A"), "x": 1}]}},
         "filter.$and[0].x", None),
        ({"filter": {"$and": [{"$or": [{"$and": [field("id", "exists")]}]}]}},
         "filter.$and[0].$or[0]", None),
        ({"filter": {"$and": [{"$or": []}]}}, "filter.$and[0]", None),
        ({"filter": {"$and": [field("id", "exists")] * 51}}, "filter.$and", None),
        ({"timezone": "Mars/Olympus"}, "timezone", '"Mars/Olympus"'),
        ({"search": "x" * 256}, "search", None),
        ({"search": 12}, "search", "12"),
        ({"sort": "name"}, "sort", None),
    ],
)  # fmt: skip
def test_malformed_queries_are_refused(body, field_name, shown):
    with pytest.raises(InvalidValue) as err:
        parse_list_query(body)
    assert err.value.field == field_name
    assert err.value.message.startswith(f"{field_name}: ")
    if shown:
        assert shown in err.value.message


@pytest.mark.parametrize(
    ("condition", "field_name", "shown"),
    [
        (field("firstName", "isGreaterThan", 1), OPERATOR, "isGreaterThan"),
        (field("firstName", "hasAllOf", ["a"]), OPERATOR, "hasAllOf"),
        (field("email", "isTimestampAfter", 1), OPERATOR, "isTimestampAfter"),
        (field("firstName", "isEqualTo", {"$ne": None}), VALUE, '{"$ne": null}'),
        (field("firstName", "isEqualTo", None), VALUE, "null"),
        (field("firstName", "isEqualTo", 5), VALUE, "5"),
        (field("firstName", "hasAnyOf", "Ann"), VALUE, '"Ann"'),
        (field("firstName", "hasAnyOf", []), VALUE, "[]"),
        (field("countryCode", "isEqualTo", "UK"), VALUE, '"UK"'),
        (field("language", "isEqualTo", "xx"), VALUE, '"xx"'),
        (field("status", "isEqualTo", "closed"), VALUE, '"closed"'),
        (field("id", "isEqualTo", "seven"), VALUE, '"seven"'),
        (field("id", "isGreaterThan", 1.5), VALUE, "1.5"),
        (field("created_at", "isTimestampAfter", "yesterday"), VALUE, '"yesterday"'),
        (field("created_at", "isTimestampAfter", True), VALUE, "true"),
        (field("first.name", "isEqualTo", "A"), FIELD, '"first.name"'),
        (field("$where", "isEqualTo", "A"), FIELD, '"$where"'),
        (field(None, "isEqualTo", "A"), FIELD, None),
        (field("Shoe", "isGreaterThan", [1]), VALUE, "[1]"),
        (field("tags", "isEqualTo", "vip", "contactTag"), OPERATOR, "isEqualTo"),
        (field("colour", "hasAnyOf", ["x"], "contactTag"), FIELD, '"colour"'),
        (field("tags", "hasAnyOf", [""], "contactTag"), VALUE, '""'),
        (field("stage", "isEqualTo", "Lead", "lifecycle"), FIELD, '"stage"'),
        (field(None, "isGreaterThan", "Lead", "lifecycle"), OPERATOR, "isGreaterThan"),
        (field(None, "hasAllOf", ["Lead"], "lifecycle"), OPERATOR, "hasAllOf"),
        (field(None, "isEqualTo", "", "lifecycle"), VALUE, '""'),
        (field(None, "isEqualTo", 3, "lifecycle"), VALUE, "3"),
        (field(None, "hasAnyOf", "Lead", "lifecycle"), VALUE, '"Lead"'),
        (field(None, "isEqualTo", "a\u0000b", "lifecycle"), VALUE, "U+0000"),
    ],
)  # fmt: skip
def test_bad_conditions_are_refused_naming_the_path_and_value(condition, field_name, shown):
    with pytest.raises(InvalidValue) as err:
        build(condition)
    assert err.value.field == field_name
    assert err.value.message.startswith(f"{field_name}: ")
    if shown:
        assert shown in err.value.message


@pytest.mark.parametrize(
    ("condition", "field_name"),
    [
        (field("Shoe", "isEqualTo", 1), FIELD),
        (field("Age", "isEqualTo", "old"), VALUE),
        (field("Tier", "hasAnyOf", ["Bronze"]), VALUE),
        (field("Tier", "isGreaterThan", "Gold"), OPERATOR),
        (field("Age", "isTimestampAfter", 1), OPERATOR),
    ],
)
def test_bad_conditions_on_defined_custom_fields(condition, field_name):
    with pytest.raises(InvalidValue) as err:
        build(condition, defs=DEFS)
    assert err.value.field == field_name


def test_errors_in_nested_groups_name_the_full_path():
    with pytest.raises(InvalidValue) as err:
        build(
            field("id", "exists"), {"$or": [field("id", "exists"), field("id", "isEqualTo", "x")]}
        )
    assert err.value.field == "filter.$and[1].$or[1].value"
