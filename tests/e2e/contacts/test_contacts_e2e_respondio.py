"""respond.io's clients work unchanged (issue 7, contacts side): the bodies respond.io's own
n8n node (`@respond-io/n8n-nodes-respond-io`) and TypeScript SDK send, and the shapes they read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from conftest import Workspace, assert_error


def stage(operator: str, value: Any = None) -> dict[str, Any]:
    """A `lifecycle` condition as respond.io's filter shapes it."""
    return {"category": "lifecycle", "field": None, "operator": operator, "value": value}


async def test_the_list_as_the_n8n_node_sends_it_with_a_lower_case_time_zone(
    ws: Workspace,
) -> None:
    ids = [await ws.create(f"email:c{i}@example.com") for i in range(3)]
    # the n8n node's "Get many contacts": this exact body
    answer = await ws.owner.post("/v2/contact/list?limit=2",
                                 json={"search": "", "timezone": "utc", "filter": {"$or": []}})
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert [c["id"] for c in page["items"]] == ids[:0:-1]
    assert page["pagination"]["next"] is not None
    # any IANA name in any case: an ISO time without offset is read in that zone
    created = datetime.fromtimestamp((await ws.get(ids[0]))["created_at"] - 5,
                                     ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)
    condition = {"category": "contactField", "field": "created_at",
                 "operator": "isTimestampAfter", "value": created.isoformat()}
    for zone in ("asia/tokyo", "ASIA/TOKYO", "Asia/Tokyo"):
        found = await ws.list({"timezone": zone, "filter": {"$and": [condition]}}, limit=100)
        assert sorted(c["id"] for c in found["items"]) == ids, zone
    assert_error(await ws.owner.post("/v2/contact/list", json={"timezone": "utc/nowhere"}), 422,
                 "timezone")


async def test_contacts_carry_a_null_lifecycle_and_the_filter_takes_the_category(
    ws: Workspace,
) -> None:
    ids = [await ws.create(f"email:l{i}@example.com") for i in range(2)]
    contact = await ws.get(ids[0])
    assert "lifecycle" in contact and contact["lifecycle"] is None
    page = await ws.list(limit=100)
    assert all(c["lifecycle"] is None for c in page["items"])
    # no contact has a lifecycle yet: the positive tests match none, the negations every one
    for condition, expected in ((stage("isEqualTo", "Lead"), []),
                                (stage("hasAnyOf", ["Lead", "Customer"]), []),
                                (stage("exists"), []),
                                (stage("isNotEqualTo", "Lead"), ids[::-1]),
                                (stage("hasNoneOf", ["Lead"]), ids[::-1]),
                                (stage("doesNotExist"), ids[::-1])):
        assert await ws.list_ids({"filter": {"$and": [condition]}}) == expected, condition
    for bad, field in ((stage("isGreaterThan", "Lead"), "operator"),
                       (stage("isEqualTo", ""), "value"),
                       ({**stage("isEqualTo", "Lead"), "field": "stage"}, "field")):
        answer = await ws.owner.post("/v2/contact/list", json={"filter": {"$and": [bad]}})
        assert_error(answer, 422, f"filter.$and[0].{field}")
    # it is not writable (respond.io sets it through its own lifecycle routes)
    answer = await ws.owner.put(f"/v2/contact/id:{ids[0]}", json={"lifecycle": "Lead"})
    assert_error(answer, 422, "lifecycle", "read-only")


async def test_the_tag_catalog_as_the_n8n_node_and_the_sdk_call_it(ws: Workspace) -> None:
    # "Add a Space Tag": every field sent, "" for what was left blank
    answer = await ws.owner.post("/v2/space/tag", json={"name": "vip", "description": "",
                                                        "colorCode": "", "emoji": ""})
    assert answer.status_code == 201, answer.text
    vip = answer.json()
    assert vip == {"id": vip["id"], "name": "vip", "description": None, "colorCode": None,
                   "emoji": None}
    answer = await ws.owner.post("/v2/space/tag", json={"name": "Lead", "colorCode": "tag-blue",
                                                        "emoji": "🔥", "description": "New"})
    lead = answer.json()
    assert lead["id"] > vip["id"] and lead["colorCode"] == "tag-blue"

    cid = await ws.create("email:ann@example.com")
    await ws.add_tags(cid, ["VIP"])
    # "Update a Space Tag": currentName plus every field
    answer = await ws.owner.put("/v2/space/tag", json={
        "currentName": "vip", "name": "Gold", "description": "Top", "colorCode": "tag-purple",
        "emoji": "💎"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": vip["id"], "name": "Gold", "description": "Top",
                             "colorCode": "tag-purple", "emoji": "💎"}
    assert (await ws.get(cid))["tags"] == ["Gold"]  # contacts carry names, not ids
    # the SDK's UpdateSpaceTagRequest: only what changes
    answer = await ws.owner.put("/v2/space/tag", json={"currentName": "gold", "emoji": ""})
    assert answer.json() == {"id": vip["id"], "name": "Gold", "description": "Top",
                             "colorCode": "tag-purple", "emoji": None}
    for bad, field in (({"name": "x", "colour": "#ff0000"}, "colour"),
                       ({"name": "x", "colorCode": "purple"}, "colorCode")):
        assert_error(await ws.owner.post("/v2/space/tag", json=bad), 422, field)

    # "Delete a Space Tag": {code, message}, status 200
    answer = await ws.owner.request("DELETE", "/v2/space/tag", json={"name": "Gold"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"code": 200, "message": 'tag "Gold" deleted'}
    assert (await ws.get(cid))["tags"] == []
    listed = (await ws.agent.get("/v2/space/tag")).json()
    assert listed == [lead]


async def test_custom_fields_as_the_n8n_node_and_the_sdk_call_them(ws: Workspace) -> None:
    # "Create a custom field": every field sent, "" and [] for what was left blank
    answer = await ws.owner.post("/v2/space/custom_field", json={
        "name": "Call at", "description": "", "dataType": "time", "allowedValues": [],
        "slug": ""})
    assert answer.status_code == 201, answer.text
    call_at = answer.json()
    assert call_at == {"id": call_at["id"], "name": "Call at", "slug": "call_at",
                       "description": None, "dataType": "time", "allowedValues": None}
    answer = await ws.owner.post("/v2/space/custom_field", json={
        "name": "Plan", "slug": "plan_code", "dataType": "list",
        "allowedValues": ["gold", "silver"], "description": "The plan"})
    plan = answer.json()
    assert (plan["slug"], plan["allowedValues"]) == ("plan_code", ["gold", "silver"])
    # our extension type stays
    phone = await ws.owner.post("/v2/space/custom_field", json={"name": "Desk phone",
                                                                "dataType": "phone"})
    assert phone.status_code == 201, phone.text

    # the SDK's listCustomFields / getCustomField
    answer = await ws.agent.get("/v2/space/custom_field", params={"limit": 2})
    first = answer.json()
    assert [d["id"] for d in first["items"]] == [call_at["id"], plan["id"]]
    assert first["pagination"]["previous"] is None
    following = (await ws.agent.get(first["pagination"]["next"])).json()
    assert [d["name"] for d in following["items"]] == ["Desk phone"]
    assert following["pagination"]["next"] is None
    back = (await ws.agent.get(following["pagination"]["previous"])).json()
    assert back["items"] == first["items"]
    answer = await ws.agent.get(f"/v2/space/custom_field/{plan['id']}")
    assert answer.json() == plan
    for bad in ("0", "abc", "1.5", str(2**63)):
        answer = await ws.agent.get(f"/v2/space/custom_field/{bad}")
        assert answer.status_code == 422, (bad, answer.text)

    # time values: HH:MM or HH:MM:SS, kept as HH:MM when the seconds are zero; filters compare
    early = await ws.create("email:early@example.com",
                            {"custom_fields": [{"name": "Call at", "value": "08:15:00"}]})
    late = await ws.create("email:late@example.com",
                           {"custom_fields": [{"name": "Call at", "value": "17:45:30"}]})
    values = {f["name"]: f["value"] for f in (await ws.get(early))["custom_fields"]}
    assert values["Call at"] == "08:15"
    for bad in ("8:15", "24:00", "12:30 PM", 815):
        answer = await ws.owner.put(f"/v2/contact/id:{early}",
                                    json={"custom_fields": [{"name": "Call at", "value": bad}]})
        assert_error(answer, 422, "custom_fields.Call at", "HH:MM")

    def call_at_is(operator: str, value: str) -> dict[str, Any]:
        return {"filter": {"$and": [{"category": "contactField", "field": "Call at",
                                     "operator": operator, "value": value}]}}

    assert await ws.list_ids(call_at_is("isEqualTo", "08:15:00")) == [early]
    assert await ws.list_ids(call_at_is("isGreaterThan", "12:00")) == [late]
    assert await ws.list_ids(call_at_is("isLessThan", "17:45:31")) == [late, early]
