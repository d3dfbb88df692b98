"""Domain rules the use cases call: block/retag versions and events, list and tag bodies."""

from datetime import UTC, datetime, timedelta

import pytest

from services.contacts.api_shapes import (
    parse_list_request,
    parse_patch,
    parse_tag_deletion,
    parse_tag_update,
)
from services.contacts.domain.contact import Contact
from services.contacts.domain.errors import Conflict, InvalidValue, NotFound
from services.contacts.domain.listing import ListQuery
from services.contacts.domain.tags import (
    CatalogEntry,
    PendingTagChange,
    Tag,
    TagUpdate,
    ensure_name_free,
    plan_tag_deletion,
    plan_tag_update,
    rename_tag_name,
)
from services.contacts.domain.versioning import block, retag, state_of
from shared.contracts import ContactBlocked, ContactTagsChanged, ContactUnblocked

T0 = datetime(2025, 1, 2, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def contact(**fields: object) -> Contact:
    return Contact.model_validate(
        {"workspace_id": "ws1", "id": 7, "created_at": T0, "updated_at": T0, "version": 3,
         **fields}
    )


# block / unblock -----------------------------------------------------------------------------
def test_block_bumps_the_version_and_says_who() -> None:
    change = block(contact(), blocked=True, by="usr_1", now=T1)
    assert change is not None
    assert (change.contact.blocked, change.contact.version, change.contact.updated_at) == (
        True, 4, T1)
    assert change.event == ContactBlocked(contact_id=7, version=4, blocked_by="usr_1")


def test_unblock_is_its_own_event() -> None:
    change = block(contact(blocked=True), blocked=False, by="usr_2", now=T1)
    assert change is not None and not change.contact.blocked
    assert change.event == ContactUnblocked(contact_id=7, version=4, unblocked_by="usr_2")


@pytest.mark.parametrize("blocked", [True, False])
def test_blocking_twice_changes_nothing(blocked: bool) -> None:
    assert block(contact(blocked=blocked), blocked=blocked, by="usr_1", now=T1) is None


# retag -----------------------------------------------------------------------------------------
def test_retag_names_what_was_added_and_removed() -> None:
    change = retag(contact(tags=["VIP", "old"]), ["VIP", "new"], now=T1)
    assert change is not None
    assert change.contact.tags == ["VIP", "new"] and change.contact.version == 4
    assert change.event == ContactTagsChanged(contact_id=7, version=4, added=("new",),
                                              removed=("old",), tags=("VIP", "new"))


def test_a_case_only_retag_adds_and_removes_nothing() -> None:
    change = retag(contact(tags=["vip"]), ["VIP"], now=T1)
    assert change is not None
    assert (change.event.added, change.event.removed, change.event.tags) == ((), (), ("VIP",))


def test_the_same_tags_are_no_change() -> None:
    assert retag(contact(tags=["a", "b"]), ["a", "b"], now=T1) is None


def test_state_of_is_the_contract_view() -> None:
    state = state_of(contact(first_name="Ann", tags=["x"], blocked=True))
    assert (state.first_name, state.tags, state.blocked, state.created_at) == (
        "Ann", ("x",), True, T0)


# list body -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "blocked"), [
    ({}, False), ({"blocked": False}, False), ({"blocked": True}, True), ({"blocked": None}, None),
])
def test_blocked_contacts_are_listed_apart(body: dict[str, object], blocked: bool | None) -> None:
    assert parse_list_request({**body, "search": "ann"}) == (ListQuery(search="ann"), blocked)


@pytest.mark.parametrize(("body", "field"), [
    ({"blocked": "yes"}, "blocked"), ([], "body"), ("x", "body"), ({"size": 1}, "size"),
])
def test_bad_list_bodies_are_422_naming_the_field(body: object, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_list_request(body)
    assert caught.value.field == field


# tag catalog bodies and rules ------------------------------------------------------------------
VIP = CatalogEntry(tag=Tag(id=3, name="vip", colorCode="#00AA00"))


@pytest.mark.parametrize("body", [{"name": "x"}, {"currentName": 3}, None, ["vip"]])
def test_a_tag_update_needs_current_name(body: object) -> None:
    with pytest.raises(InvalidValue, match="currentName: .* is required"):
        parse_tag_update(body)


def test_a_tag_update_keeps_what_it_does_not_send() -> None:
    update = parse_tag_update({"currentName": "VIP", "name": "Gold"})
    assert update == TagUpdate(current_name="VIP", changes={"name": "Gold"})
    assert plan_tag_update(VIP, update) == Tag(id=3, name="Gold", colorCode="#00AA00")
    # respond.io's shape: a null name keeps the name; "" or null clears a style field
    update = parse_tag_update({"currentName": "vip", "name": None, "colorCode": "tag-red",
                               "emoji": "", "description": "Top"})
    assert plan_tag_update(VIP, update) == Tag(id=3, name="vip", colorCode="tag-red",
                                               description="Top")
    assert plan_tag_update(VIP, parse_tag_update({"currentName": "vip", "colorCode": None})
                           ) == Tag(id=3, name="vip")


@pytest.mark.parametrize(("body", "field"), [
    ({"currentName": "vip", "colour": "#000000"}, "colour"),
    ({"currentName": "vip", "id": 4}, "id"),
    ({"currentName": "vip", "size": 1}, "size"),
])  # fmt: skip
def test_a_tag_update_takes_respond_io_fields_only(body: object, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_tag_update(body)
    assert caught.value.field == field


def test_tag_update_refusals_404_then_422_then_409() -> None:
    with pytest.raises(NotFound, match='currentName: "nope" is not a tag'):
        plan_tag_update(None, TagUpdate(current_name="nope", changes={"colorCode": "bad"}))
    with pytest.raises(InvalidValue, match="colorCode"):
        plan_tag_update(VIP, TagUpdate(current_name="vip", changes={"colorCode": "bad"}))
    gold = Tag(name="Gold")
    with pytest.raises(Conflict, match='name: "Gold" is already a tag of this workspace'):
        ensure_name_free(VIP, gold, CatalogEntry(tag=gold))
    ensure_name_free(VIP, gold, None)
    ensure_name_free(VIP, gold, CatalogEntry(tag=gold, reserved_for="vip"))  # its own
    ensure_name_free(VIP, Tag(name="VIP"), VIP)  # a case-only rename


def test_a_pending_rename_is_resumed_by_the_same_rename_only() -> None:
    renaming = VIP.model_copy(
        update={"pending": PendingTagChange(op="rename", tag=Tag(name="Gold"))})
    resumed = plan_tag_update(renaming, TagUpdate("vip", {"name": "Gold", "emoji": "💎"}))
    assert resumed.name == "Gold"
    for changes in ({"name": "Silver"}, {"colorCode": "#000000"}):
        with pytest.raises(Conflict, match='being renamed to "Gold"'):
            plan_tag_update(renaming, TagUpdate("vip", changes))
    with pytest.raises(Conflict, match='being renamed to "Gold"'):
        plan_tag_deletion(renaming, "vip")
    assert renaming.assigned_name() == "Gold"


def test_a_tag_being_deleted_refuses_other_changes_and_assignments() -> None:
    deleting = VIP.model_copy(update={"pending": PendingTagChange(op="delete")})
    assert plan_tag_deletion(deleting, "VIP") == VIP.tag  # repeating it resumes it
    with pytest.raises(Conflict, match="being deleted"):
        plan_tag_update(deleting, TagUpdate("vip", {"name": "Gold"}))
    with pytest.raises(Conflict, match='tags: "vip" is being deleted'):
        deleting.assigned_name()


def test_a_reserved_new_name_is_not_a_tag_to_change_yet() -> None:
    reserved = CatalogEntry(tag=Tag(name="Gold"), reserved_for="vip")
    with pytest.raises(Conflict, match="still being renamed"):
        plan_tag_update(reserved, TagUpdate("gold", {"emoji": "💎"}))
    with pytest.raises(Conflict, match="still being renamed"):
        plan_tag_deletion(reserved, "gold")
    assert reserved.assigned_name() == "Gold"


def test_tag_deletion_body_and_404() -> None:
    assert parse_tag_deletion({"name": "vip"}) == "vip"
    for body in ({}, {"name": 1}, None):
        with pytest.raises(InvalidValue, match="name: .* is required"):
            parse_tag_deletion(body)
    with pytest.raises(NotFound, match='name: "vip" is not a tag'):
        plan_tag_deletion(None, "vip")


def test_rename_keeps_the_place_and_never_duplicates() -> None:
    assert rename_tag_name(["a", "vip", "b"], key="vip", name="Gold") == ["a", "Gold", "b"]
    assert rename_tag_name(["Gold", "vip"], key="vip", name="Gold") == ["Gold"]


# custom_fields: null ---------------------------------------------------------------------------
def test_custom_fields_null_is_422_saying_how_to_clear() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_patch({"firstName": "Ann", "custom_fields": None})
    assert caught.value.field == "custom_fields"
    assert caught.value.message.startswith("custom_fields:")
    assert "send a list; set a field's value to null to clear it" in caught.value.message
    assert parse_patch({"custom_fields": []}).custom_fields == []
