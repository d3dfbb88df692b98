"""Tag names of a call, the catalog entry and the contact's tag list."""

import pytest
from pydantic import ValidationError

from services.contacts.domain.errors import InvalidValue
from services.contacts.domain.tags import (
    Tag,
    add_tag_names,
    remove_tag_names,
    tag_key,
    validate_tag_names,
)
from shared.api.space import TAG_COLORS


def test_names_are_stripped_and_deduplicated_case_insensitively_keeping_order():
    assert validate_tag_names([" VIP ", "lead", "vip", "Lead", "new"]) == ["VIP", "lead", "new"]


def test_ten_names_are_accepted():
    assert len(validate_tag_names([f"t{i}" for i in range(10)])) == 10


def test_eleven_names_are_refused():
    with pytest.raises(InvalidValue) as err:
        validate_tag_names([f"t{i}" for i in range(11)])
    assert err.value.field == "tags"
    assert err.value.message == "tags: 11 names given, at most 10 per call"


def test_a_256_character_name_is_refused():
    with pytest.raises(InvalidValue) as err:
        validate_tag_names(["x" * 256])
    assert err.value.field == "tags"
    assert err.value.message.startswith('tags: "xxx')
    assert "…" in err.value.message
    assert err.value.message.endswith("is longer than 255 characters")
    assert validate_tag_names(["x" * 255]) == ["x" * 255]


@pytest.mark.parametrize("body", [[], "vip", {"name": "vip"}, [1], [""], ["  "], None])
def test_bodies_that_are_not_1_to_10_names_are_refused(body):
    with pytest.raises(InvalidValue) as err:
        validate_tag_names(body)
    assert err.value.field == "tags"


def test_adding_uses_the_catalog_spelling_and_skips_assigned_tags():
    catalog = {tag_key("VIP"): "VIP", tag_key("Lead"): "Lead"}
    assert add_tag_names(["lead"], ["vip", "LEAD", "new"], catalog=catalog) == [
        "lead",
        "VIP",
        "new",
    ]


def test_removing_matches_case_insensitively():
    assert remove_tag_names(["VIP", "Lead"], ["vip", "unknown"]) == ["Lead"]


def test_catalog_tag_validates_color_code_emoji_description():
    tag = Tag(name=" VIP ", colorCode="#ff00aa", emoji="⭐", description="Top customers")
    assert (tag.name, tag.color_code, tag.key) == ("VIP", "#FF00AA", "vip")
    for color in TAG_COLORS:  # respond.io's colours
        assert Tag(name="x", colorCode=color).color_code == color
    # respond.io's n8n node sends "" for what was left blank: none
    assert Tag(name="x", colorCode="", emoji="", description="") == Tag(name="x")
    with pytest.raises(ValidationError):  # respond.io's name only
        Tag(name="x", colour="#ff00aa")
    for bad in (
        {"name": "x", "colorCode": "red"},
        {"name": "x", "colorCode": "TAG-RED"},
        {"name": "x", "emoji": "123456789"},
        {"name": "x", "description": "d" * 501},
        {"name": ""},
    ):
        with pytest.raises(InvalidValue):
            Tag(**bad)
