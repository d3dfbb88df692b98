"""Custom field definitions, validated values and the details-view field order, end to end."""

from __future__ import annotations

from typing import Any

from conftest import Workspace, assert_error, of_contact, types

from tests.support.events import EventTap

#: One definition per type, with a valid value (and its stored form) and an invalid value.
FIELDS: list[tuple[dict[str, Any], Any, Any, Any]] = [
    ({"name": "Nickname", "dataType": "text", "description": "What they like to be called"},
     "Annie", "Annie", 42),
    ({"name": "Score", "dataType": "number"}, "42.5", 42.5, "forty"),
    ({"name": "Birthday", "dataType": "date"}, "1990-02-28", "1990-02-28", "1990-02-30"),
    ({"name": "Plan", "dataType": "list", "allowedValues": ["gold", "silver"]}, "gold", "gold",
     "bronze"),
    ({"name": "Vip", "dataType": "checkbox"}, True, True, "yes"),
    ({"name": "Work email", "dataType": "email"}, "Ann@Work.example", "Ann@Work.example", "ann@"),
    ({"name": "Work phone", "dataType": "phone"}, "06 12 34 56 78", "+33612345678", "+33 12"),
    ({"name": "Website", "dataType": "url"}, "https://ann.example.com", "https://ann.example.com",
     "ann.example.com"),
    ({"name": "Call at", "dataType": "time"}, "09:30:00", "09:30", "9:30"),
]


async def _define_all(ws: Workspace) -> list[dict[str, Any]]:
    """Define every field of FIELDS; their definitions as answered."""
    made = []
    for definition, *_ in FIELDS:
        answer = await ws.owner.post("/v2/space/custom_field", json=definition)
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    return made


async def _all_definitions(ws: Workspace, limit: int) -> list[dict[str, Any]]:
    """Every definition, following the `next` links from the first page."""
    found: list[dict[str, Any]] = []
    url: str | None = f"/v2/space/custom_field?limit={limit}"
    while url is not None:
        answer = await ws.agent.get(url)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= limit
        found += page["items"]
        url = page["pagination"]["next"]
    return found


async def test_definitions_of_every_type(ws: Workspace) -> None:
    made = await _define_all(ws)
    ids = [d["id"] for d in made]
    assert ids == list(range(1, len(FIELDS) + 1))  # integers per workspace
    for definition, answered in zip([d for d, *_ in FIELDS], made, strict=True):
        assert answered == {
            "id": answered["id"], "name": definition["name"],
            "slug": definition["name"].lower().replace(" ", "_"),
            "description": definition.get("description"), "dataType": definition["dataType"],
            "allowedValues": definition.get("allowedValues")}
    assert await _all_definitions(ws, 4) == made  # by id, paginated like the contact list
    for definition in made:
        answer = await ws.agent.get(f"/v2/space/custom_field/{definition['id']}")
        assert answer.status_code == 200, answer.text
        assert answer.json() == definition
    assert_error(await ws.agent.get("/v2/space/custom_field/999"), 404, "999")

    duplicate = await ws.owner.post("/v2/space/custom_field", json={"name": "Plan",
                                                                    "dataType": "text"})
    assert_error(duplicate, 409, "name", "Plan")
    same_slug = await ws.owner.post("/v2/space/custom_field", json={"name": "call-at",
                                                                    "dataType": "text"})
    assert_error(same_slug, 409, "slug", "call_at", "Call at")
    for bad, field in (
        ({"name": "Colour", "dataType": "colour"}, "dataType"),
        ({"name": "Tier", "dataType": "list"}, "allowedValues"),
        ({"name": "Tier", "dataType": "list", "allowedValues": ["a", "a"]}, "allowedValues"),
        ({"name": "Tier", "dataType": "text", "allowedValues": ["a"]}, "allowedValues"),
        ({"name": "email", "dataType": "text"}, "name"),
        ({"name": "a.b", "dataType": "text"}, "name"),
        ({"name": "Tier"}, "dataType"),
        ({"name": "Tier", "dataType": "text", "slug": "a.b"}, "slug"),
        ({"name": "Tier", "dataType": "text", "extra": 1}, "extra"),
        ({"name": "Tier", "type": "text"}, "type"),  # respond.io's names only
        ({"name": "Tier", "dataType": "text", "id": 3}, "id"),
    ):
        assert_error(await ws.owner.post("/v2/space/custom_field", json=bad), 422, field)
    assert await _all_definitions(ws, 100) == made


async def test_values_are_validated_against_the_definitions(ws: Workspace,
                                                            tap: EventTap) -> None:
    await _define_all(ws)
    cid = await ws.create("email:ann@example.com")
    valid = [{"name": d["name"], "value": value} for d, value, _, _ in FIELDS]
    await ws.update(cid, {"custom_fields": valid})
    stored = {f["name"]: f["value"] for f in (await ws.get(cid))["custom_fields"]}
    assert stored == {d["name"]: stored_form for d, _, stored_form, _ in FIELDS}
    assert [f["name"] for f in (await ws.get(cid))["custom_fields"]] == [
        d["name"] for d, *_ in FIELDS]
    before = await ws.get(cid)

    for definition, _, _, invalid in FIELDS:
        name = definition["name"]
        body = {"custom_fields": [{"name": name, "value": invalid}]}
        answer = await ws.owner.put(f"/v2/contact/id:{cid}", json=body)
        assert_error(answer, 422, f"custom_fields.{name}", str(invalid))
        answer = await ws.owner.post("/v2/contact/email:new@example.com", json=body)
        assert_error(answer, 422, f"custom_fields.{name}", str(invalid))
    unknown = {"custom_fields": [{"name": "Shoe size", "value": 42}]}
    assert_error(await ws.owner.put(f"/v2/contact/id:{cid}", json=unknown), 422,
                 "custom_fields", "Shoe size")
    assert_error(await ws.owner.post("/v2/contact/email:new@example.com", json=unknown), 422,
                 "custom_fields", "Shoe size")
    # names match exactly, a valid value does not save an invalid one next to it
    mixed = {"custom_fields": [{"name": "plan", "value": "gold"}]}
    assert_error(await ws.owner.put(f"/v2/contact/id:{cid}", json=mixed), 422, "plan")
    mixed = {"firstName": "X", "custom_fields": [{"name": "Score", "value": 1},
                                                  {"name": "Vip", "value": "no"}]}
    assert_error(await ws.owner.put(f"/v2/contact/id:{cid}", json=mixed), 422,
                 "custom_fields.Vip")
    assert await ws.get(cid) == before
    assert await ws.list_ids() == [cid]

    # null clears one value, the others stay
    await ws.update(cid, {"custom_fields": [{"name": "Plan", "value": None}]})
    after = {f["name"]: f["value"] for f in (await ws.get(cid))["custom_fields"]}
    assert after["Plan"] is None and after["Score"] == 42.5

    published = await tap.wait_for(3, workspace_id=ws.id)
    assert len(published) == 3  # nothing for the refused creates either
    events = of_contact(published, cid)
    assert types(events) == ["contact.created", "contact.updated", "contact.updated"]
    assert events[1].data.changed == tuple(f"custom_fields.{d['name']}" for d, *_ in FIELDS)
    assert events[1].data.contact.custom_fields["Work phone"] == "+33612345678"
    assert (events[2].data.version, events[2].data.changed) == (3, ("custom_fields.Plan",))


async def test_field_order_get_and_put(ws: Workspace) -> None:
    await _define_all(ws)
    answer = await ws.agent.get("/v2/space/contact_field_order")
    assert answer.status_code == 200, answer.text
    default = answer.json()["fields"]
    assert default[:2] == ["firstName", "lastName"]
    assert default[-len(FIELDS):] == [d["name"] for d, *_ in FIELDS]

    answer = await ws.manager.put("/v2/space/contact_field_order",
                                  json={"fields": ["Plan", "firstName", "Vip", "phone"]})
    assert answer.status_code == 200, answer.text
    saved = answer.json()["fields"]
    assert saved[:4] == ["Plan", "firstName", "Vip", "phone"]
    assert sorted(saved) == sorted(default)  # the rest follows, nothing lost
    assert (await ws.owner.get("/v2/space/contact_field_order")).json()["fields"] == saved

    # the custom fields of contacts follow the order (the definitions list is by id)
    customs = [f for f in saved if f in {d["name"] for d, *_ in FIELDS}]
    assert customs[:2] == ["Plan", "Vip"]
    cid = await ws.create("email:ann@example.com")
    assert [f["name"] for f in (await ws.get(cid))["custom_fields"]] == customs

    for bad, shown in (({"fields": ["Plan", "Shoe size"]}, "Shoe size"),
                       ({"fields": ["Plan", "Plan"]}, "Plan"),
                       ({"fields": "Plan"}, "Plan")):
        answer = await ws.owner.put("/v2/space/contact_field_order", json=bad)
        assert_error(answer, 422, "fields", shown)
    assert (await ws.owner.get("/v2/space/contact_field_order")).json()["fields"] == saved
