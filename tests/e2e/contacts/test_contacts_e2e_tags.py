"""Tags end to end: assign and remove on a contact, and the workspace catalog."""

from __future__ import annotations

from typing import Any

from conftest import Workspace, assert_error, of_contact, types

from tests.support.events import EventTap


async def _catalog(ws: Workspace) -> dict[str, dict[str, Any]]:
    answer = await ws.agent.get("/v2/space/tag")
    assert answer.status_code == 200, answer.text
    return {tag["name"]: tag for tag in answer.json()}


async def test_assign_and_remove_tags(ws: Workspace, tap: EventTap) -> None:
    answer = await ws.owner.post("/v2/space/tag", json={"name": "VIP", "colorCode": "#ff8800",
                                                        "emoji": "⭐", "description": "Big"})
    assert answer.status_code == 201, answer.text
    vip_id = answer.json()["id"]
    cid = await ws.create("email:ann@example.com")

    # unknown names join the catalog; a known name takes the catalog's spelling
    answer = await ws.agent.post(f"/v2/contact/id:{cid}/tag", json=["vip", "Newsletter"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"contactId": cid}
    assert (await ws.get(cid))["tags"] == ["VIP", "Newsletter"]
    catalog = await _catalog(ws)
    assert set(catalog) == {"VIP", "Newsletter"}
    assert catalog["VIP"] == {"id": vip_id, "name": "VIP", "colorCode": "#FF8800",
                              "emoji": "⭐", "description": "Big"}
    # a tag entering the catalog by assignment takes the next id
    assert catalog["Newsletter"] == {"id": vip_id + 1, "name": "Newsletter", "colorCode": None,
                                     "emoji": None, "description": None}

    # by email and phone identifiers too; names are de-duplicated case-insensitively
    await ws.update(cid, {"phone": "+33612345678"})
    await ws.add_tags("email:ANN@example.com", ["NEWSLETTER", " Trial ", "trial"])
    await ws.add_tags("phone:06 12 34 56 78", ["Spring sale"])
    assert (await ws.get(cid))["tags"] == ["VIP", "Newsletter", "Trial", "Spring sale"]

    # removing takes it off the contact only; the catalog keeps it
    answer = await ws.agent.request("DELETE", f"/v2/contact/id:{cid}/tag",
                                    json=["newsletter", "never-assigned"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"contactId": cid}
    assert (await ws.get(cid))["tags"] == ["VIP", "Trial", "Spring sale"]
    assert set(await _catalog(ws)) == {"VIP", "Newsletter", "Trial", "Spring sale"}
    answer = await ws.owner.request("DELETE", "/v2/contact/email:ann@example.com/tag",
                                    json=["TRIAL"])
    assert (await ws.get(cid))["tags"] == ["VIP", "Spring sale"]

    # no-ops: already there, not there
    await ws.add_tags(cid, ["vip"])
    answer = await ws.owner.request("DELETE", f"/v2/contact/id:{cid}/tag", json=["Newsletter"])
    assert answer.status_code == 200, answer.text
    assert_error(await ws.owner.post("/v2/contact/id:999/tag", json=["x"]), 404)

    published = await tap.wait_for(7, workspace_id=ws.id)
    assert len(published) == 7
    events = of_contact(published, cid)
    assert types(events) == ["contact.created", "contact.tags_changed", "contact.updated",
                             "contact.tags_changed", "contact.tags_changed",
                             "contact.tags_changed", "contact.tags_changed"]
    assert [e.data.version for e in events] == [1, 2, 3, 4, 5, 6, 7]
    tagged = [(e.data.added, e.data.removed, e.data.tags) for e in events
              if e.type == "contact.tags_changed"]
    assert tagged == [
        (("VIP", "Newsletter"), (), ("VIP", "Newsletter")),
        (("Trial",), (), ("VIP", "Newsletter", "Trial")),
        (("Spring sale",), (), ("VIP", "Newsletter", "Trial", "Spring sale")),
        ((), ("Newsletter",), ("VIP", "Trial", "Spring sale")),
        ((), ("Trial",), ("VIP", "Spring sale")),
    ]


async def test_tag_calls_out_of_bounds_are_refused_and_store_nothing(ws: Workspace,
                                                                     tap: EventTap) -> None:
    cid = await ws.create("email:ann@example.com")
    await ws.add_tags(cid, ["keep"])
    before, catalog_before = await ws.get(cid), await _catalog(ws)
    eleven = [f"t{i}" for i in range(11)]
    long_name = "x" * 255 + "y"
    bad_bodies: list[tuple[Any, tuple[str, ...]]] = [
        (eleven, ("tags", "11")),
        (["ok", long_name], ("tags", "x" * 40, "255")),
        ([], ("tags",)),
        (["ok", ""], ("tags", '""')),
        (["ok", 7], ("tags", "7")),
        ("vip", ("tags", '"vip"')),
        ({"tags": ["vip"]}, ("tags",)),
    ]
    for body, mentions in bad_bodies:
        for method in ("POST", "DELETE"):
            answer = await ws.owner.request(method, f"/v2/contact/id:{cid}/tag", json=body)
            assert_error(answer, 422, *mentions)
    assert await ws.get(cid) == before
    assert await _catalog(ws) == catalog_before

    # the bounds themselves are fine: 10 names, 255 characters
    await ws.add_tags(cid, [f"t{i}" for i in range(9)] + ["x" * 255])
    assert len((await ws.get(cid))["tags"]) == 11
    published = await tap.wait_for(3, workspace_id=ws.id)
    assert len(published) == 3
    events = of_contact(published, cid)
    assert types(events) == ["contact.created", "contact.tags_changed", "contact.tags_changed"]
    assert events[2].data.version == 3


async def test_catalog_create_restyle_rename_delete(ws: Workspace, tap: EventTap) -> None:
    answer = await ws.manager.post("/v2/space/tag", json={"name": "vip",
                                                          "colorCode": "tag-green"})
    assert answer.status_code == 201, answer.text
    vip = answer.json()
    assert isinstance(vip["id"], int)
    assert vip == {"id": vip["id"], "name": "vip", "colorCode": "tag-green", "emoji": None,
                   "description": None}
    assert_error(await ws.owner.post("/v2/space/tag", json={"name": "VIP"}), 409, "name", "VIP")
    for bad, field in (({"name": "x", "colorCode": "green"}, "colorCode"),
                       ({"name": "x", "colour": "#000000"}, "colour"),
                       ({"name": "x", "id": 4}, "id"),
                       ({"name": "x", "emoji": "123456789"}, "emoji"),
                       ({"name": "x", "description": "d" * 501}, "description"),
                       ({"name": "y" * 256}, "name"), ({"name": "  "}, "name"),
                       ({"colorCode": "#000000"}, "name"), ({"name": "x", "size": 1}, "size")):
        assert_error(await ws.owner.post("/v2/space/tag", json=bad), 422, field)
    assert set(await _catalog(ws)) == {"vip"}

    carriers = [await ws.create(f"email:c{i}@example.com") for i in range(3)]
    for cid in carriers[:2]:
        await ws.add_tags(cid, ["VIP", "other"])
    await ws.add_tags(carriers[2], ["other"])

    # restyle only: contacts are untouched
    answer = await ws.owner.put("/v2/space/tag", json={"currentName": "VIP", "emoji": "💎",
                                                       "description": "Top customers"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": vip["id"], "name": "vip", "colorCode": "tag-green",
                             "emoji": "💎", "description": "Top customers"}

    # rename: every contact carrying it follows, the style stays
    answer = await ws.owner.put("/v2/space/tag", json={"currentName": "vip", "name": "Gold"})
    assert answer.status_code == 200, answer.text
    catalog = await _catalog(ws)
    assert set(catalog) == {"Gold", "other"}
    assert catalog["Gold"] == {"id": vip["id"], "name": "Gold", "colorCode": "tag-green",
                               "emoji": "💎", "description": "Top customers"}
    for cid in carriers[:2]:
        assert (await ws.get(cid))["tags"] == ["Gold", "other"]
    assert (await ws.get(carriers[2]))["tags"] == ["other"]
    # a case-only rename is a rename too
    await ws.owner.put("/v2/space/tag", json={"currentName": "gold", "name": "GOLD"})
    assert (await ws.get(carriers[0]))["tags"] == ["GOLD", "other"]

    assert_error(await ws.owner.put("/v2/space/tag", json={"currentName": "gold",
                                                           "name": "Other"}), 409, "Other")
    assert_error(await ws.owner.put("/v2/space/tag", json={"currentName": "nope",
                                                           "name": "x"}), 404, "nope")
    assert_error(await ws.owner.put("/v2/space/tag", json={"name": "x"}), 422, "currentName")
    assert set(await _catalog(ws)) == {"GOLD", "other"}

    # delete (a manager: the catalog is a workspace setting): gone from the catalog and
    # from every contact
    answer = await ws.manager.request("DELETE", "/v2/space/tag", json={"name": "gold"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"code": 200, "message": 'tag "gold" deleted'}
    assert set(await _catalog(ws)) == {"other"}
    for cid in carriers:
        assert (await ws.get(cid))["tags"] == ["other"]
    assert_error(await ws.owner.request("DELETE", "/v2/space/tag", json={"name": "gold"}), 404,
                 "gold")
    # the name is free again (a new tag: a new id)
    answer = await ws.owner.post("/v2/space/tag", json={"name": "Gold"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["id"] > vip["id"]

    events = await tap.wait_for(12, workspace_id=ws.id)
    for cid in carriers[:2]:
        changes = [(e.data.version, e.data.added, e.data.removed, e.data.tags)
                   for e in of_contact(events, cid) if e.type == "contact.tags_changed"]
        assert changes == [
            (2, ("vip", "other"), (), ("vip", "other")),  # the catalog's spelling
            (3, ("Gold",), ("vip",), ("Gold", "other")),
            # a case-only rename adds and removes nothing, the spelling changes
            (4, (), (), ("GOLD", "other")),
            (5, (), ("GOLD",), ("other",)),
        ]
    assert types(of_contact(events, carriers[2])) == ["contact.created", "contact.tags_changed"]
    assert len(events) == 3 + 2 * 4 + 1
