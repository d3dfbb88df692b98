"""Custom field definitions, validated values and the details-view field order, end to end."""

from __future__ import annotations

from typing import Any

from conftest import Workspace, assert_error, of_contact, types

from tests.support.events import EventTap

#: One definition per type, with a valid value (and its stored form) and an invalid value.
FIELDS: list[tuple[dict[str, Any], Any, Any, Any]] = [
    ({"name": "Nickname", "type": "text", "description": "What they like to be called"},
     "Annie", "Annie", 42),
    ({"name": "Score", "type": "number"}, "42.5", 42.5, "forty"),
    ({"name": "Birthday", "type": "date"}, "1990-02-28", "1990-02-28", "1990-02-30"),
    ({"name": "Plan", "type": "list", "options": ["gold", "silver"]}, "gold", "gold", "bronze"),
    ({"name": "Vip", "type": "checkbox"}, True, True, "yes"),
    ({"name": "Work email", "type": "email"}, "Ann@Work.example", "Ann@Work.example", "ann@"),
    ({"name": "Work phone", "type": "phone"}, "06 12 34 56 78", "+33612345678", "+33 12"),
    ({"name": "Website", "type": "url"}, "https://ann.example.com", "https://ann.example.com",
     "ann.example.com"),
]


async def _define_all(ws: Workspace) -> None:
    for definition, *_ in FIELDS:
        answer = await ws.owner.post("/v2/space/custom_field", json=definition)
        assert answer.status_code == 201, answer.text
        assert answer.json() == {"options": [], "description": None, **definition}


async def test_definitions_of_every_type(ws: Workspace) -> None:
    await _define_all(ws)
    answer = await ws.agent.get("/v2/space/custom_field")
    assert answer.status_code == 200, answer.text
    assert [d["name"] for d in answer.json()] == [d["name"] for d, *_ in FIELDS]
    assert answer.json()[3]["options"] == ["gold", "silver"]

    duplicate = await ws.owner.post("/v2/space/custom_field", json={"name": "Plan",
                                                                    "type": "text"})
    assert_error(duplicate, 409, "name", "Plan")
    for bad, field in (
        ({"name": "Colour", "type": "colour"}, "type"),
        ({"name": "Tier", "type": "list"}, "options"),
        ({"name": "Tier", "type": "list", "options": ["a", "a"]}, "options"),
        ({"name": "Tier", "type": "text", "options": ["a"]}, "options"),
        ({"name": "email", "type": "text"}, "name"),
        ({"name": "a.b", "type": "text"}, "name"),
        ({"name": "Tier"}, "type"),
        ({"name": "Tier", "type": "text", "extra": 1}, "extra"),
    ):
        assert_error(await ws.owner.post("/v2/space/custom_field", json=bad), 422, field)
    answer = await ws.owner.get("/v2/space/custom_field")
    assert len(answer.json()) == len(FIELDS)


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

    # the custom fields of definitions and contacts follow the order
    customs = [d["name"] for d in (await ws.owner.get("/v2/space/custom_field")).json()]
    assert customs[:2] == ["Plan", "Vip"]
    cid = await ws.create("email:ann@example.com")
    assert [f["name"] for f in (await ws.get(cid))["custom_fields"]] == customs

    for bad, shown in (({"fields": ["Plan", "Shoe size"]}, "Shoe size"),
                       ({"fields": ["Plan", "Plan"]}, "Plan"),
                       ({"fields": "Plan"}, "Plan")):
        answer = await ws.owner.put("/v2/space/contact_field_order", json=bad)
        assert_error(answer, 422, "fields", shown)
    assert (await ws.owner.get("/v2/space/contact_field_order")).json()["fields"] == saved
