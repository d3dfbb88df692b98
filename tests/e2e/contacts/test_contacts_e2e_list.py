"""`POST /v2/contact/list` end to end: search, every filter operator, cursor pagination."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from conftest import Workspace, assert_error


def field(name: str, operator: str, value: Any = None) -> dict[str, Any]:
    """A contactField condition."""
    return {"category": "contactField", "field": name, "operator": operator, "value": value}


def tag(operator: str, value: Any = None) -> dict[str, Any]:
    """A contactTag condition."""
    return {"category": "contactTag", "field": "tags", "operator": operator, "value": value}


def every(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"filter": {"$and": list(conditions)}}


def any_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"filter": {"$or": list(conditions)}}


async def _people(ws: Workspace) -> dict[str, int]:
    """A small, varied population; returns name → id."""
    people = {
        "ann": await ws.create("email:Ann.Smith@Example.com", {
            "firstName": "Ann", "lastName": "Smith", "phone": "+33612345678", "language": "fr",
            "custom_fields": [{"name": "Score", "value": 10}, {"name": "Plan", "value": "gold"},
                              {"name": "Renewal", "value": "2025-01-15"}]}),
        "anna": await ws.create("email:anna@test.org", {
            "firstName": "Anna", "lastName": "Karenina", "phone": PR, "language": "ru",
            "custom_fields": [{"name": "Score", "value": 20}, {"name": "Plan", "value": "silver"},
                              {"name": "Renewal", "value": "2025-06-30"}]}),
        "bob": await ws.create("phone:+44 1481 256789", {
            "firstName": "Bob", "lastName": "Jones", "language": "en-GB",
            "custom_fields": [{"name": "Score", "value": 30}]}),
        "carl": await ws.create("email:carl@example.com", {"firstName": "Carl"}),
    }
    await ws.add_tags(people["ann"], ["VIP", "Newsletter"])
    await ws.add_tags(people["anna"], ["vip"])
    await ws.add_tags(people["bob"], ["Newsletter", "Trial"])
    users = await ws.user_ids()
    await ws.update(people["bob"], {"assignee": users["agent"]})
    return people


PR = "+1 787 234 5678"


async def _define(ws: Workspace) -> None:
    for definition in ({"name": "Score", "dataType": "number"},
                       {"name": "Plan", "dataType": "list", "allowedValues": ["gold", "silver"]},
                       {"name": "Renewal", "dataType": "date"}):
        answer = await ws.owner.post("/v2/space/custom_field", json=definition)
        assert answer.status_code == 201, answer.text


async def test_search_by_name_email_and_phone(ws: Workspace) -> None:
    await _define(ws)
    p = await _people(ws)
    cases: list[tuple[str, set[str]]] = [
        ("ann", {"ann", "anna"}),             # names and emails, substring, any case
        ("ANN smith", {"ann"}),               # every word must match somewhere
        ("karenina", {"anna"}),
        ("test.org", {"anna"}),
        ("ann.smith@example.COM", {"ann"}),
        ("+33612345678", {"ann"}),
        ("06 12 34 56 78", {"ann"}),          # national form, workspace region
        ("1481", {"bob"}),                    # digits of a phone
        ("+1 787", {"anna"}),
        ("nobody", set()),
        ("a.*", set()),                       # not a regular expression
    ]
    for search, expected in cases:
        ids = await ws.list_ids({"search": search})
        assert set(ids) == {p[name] for name in expected}, search
    ids = await ws.list_ids({"search": "   "})
    assert sorted(ids) == sorted(p.values())
    assert_error(await ws.owner.post("/v2/contact/list", json={"search": "x" * 256}), 422,
                 "search")


async def test_filters_on_standard_fields(ws: Workspace) -> None:
    await _define(ws)
    p = await _people(ws)
    users = await ws.user_ids()
    everyone = set(p)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        (every(field("countryCode", "isEqualTo", "fr")), {"ann"}),
        (every(field("countryCode", "isNotEqualTo", "FR")), everyone - {"ann"}),
        (every(field("email", "isEqualTo", "ANN.SMITH@example.com")), {"ann"}),
        (every(field("phone", "isEqualTo", "06 12 34 56 78")), {"ann"}),
        (every(field("firstName", "isEqualTo", "Bob")), {"bob"}),
        (every(field("language", "isEqualTo", "en-gb")), {"bob"}),
        (every(field("assignee", "isEqualTo", users["agent"])), {"bob"}),
        (every(field("email", "exists")), {"ann", "anna", "carl"}),
        (every(field("email", "doesNotExist")), {"bob"}),
        (every(field("phone", "exists")), {"ann", "anna", "bob"}),
        (every(field("assignee", "doesNotExist")), everyone - {"bob"}),
        (every(field("language", "hasAnyOf", ["fr", "RU"])), {"ann", "anna"}),
        (every(field("language", "hasNoneOf", ["fr", "ru"])), {"bob", "carl"}),
        (every(field("countryCode", "hasAnyOf", ["PR", "GG"])), {"anna", "bob"}),
        (every(field("id", "isGreaterThan", p["anna"])), {"bob", "carl"}),
        (every(field("id", "isLessThan", p["anna"])), {"ann"}),
        (every(field("status", "doesNotExist")), everyone),
        (every(field("Score", "isGreaterThan", 15)), {"anna", "bob"}),
        (every(field("Score", "isLessThan", "25")), {"ann", "anna"}),
        (every(field("Score", "isEqualTo", 30)), {"bob"}),
        (every(field("Plan", "isEqualTo", "gold")), {"ann"}),
        (every(field("Plan", "hasAnyOf", ["gold", "silver"])), {"ann", "anna"}),
        (every(field("Plan", "exists")), {"ann", "anna"}),
        (every(field("Renewal", "isTimestampAfter", "2025-03-01T00:00:00")), {"anna"}),
        (every(field("Renewal", "isTimestampBefore", "2025-03-01")), {"ann"}),
        (every(field("Renewal", "isGreaterThan", "2025-01-15")), {"anna"}),
        # combinations, one level of nesting
        (every(field("email", "exists"), field("phone", "exists")), {"ann", "anna"}),
        (any_of(field("firstName", "isEqualTo", "Carl"), field("countryCode", "isEqualTo", "GG")),
         {"carl", "bob"}),
        ({"filter": {"$and": [field("email", "exists"),
                              {"$or": [field("language", "isEqualTo", "fr"),
                                       field("firstName", "isEqualTo", "Carl")]}]}},
         {"ann", "carl"}),
        # search and filter together
        ({"search": "ann", **every(field("language", "isEqualTo", "ru"))}, {"anna"}),
        ({"filter": {"$and": []}}, everyone),
    ]
    for body, expected in cases:
        ids = await ws.list_ids(body)
        assert set(ids) == {p[name] for name in expected}, body
        assert ids == sorted(ids, reverse=True), body  # newest first


async def test_filters_on_tags(ws: Workspace) -> None:
    await _define(ws)
    p = await _people(ws)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        (every(tag("hasAnyOf", ["vip"])), {"ann", "anna"}),
        (every(tag("hasAnyOf", ["VIP", "trial"])), {"ann", "anna", "bob"}),
        (every(tag("hasAllOf", ["vip", "newsletter"])), {"ann"}),
        (every(tag("hasAllOf", ["Newsletter"])), {"ann", "bob"}),
        (every(tag("hasNoneOf", ["vip"])), {"bob", "carl"}),
        (every(tag("exists")), {"ann", "anna", "bob"}),
        (every(tag("doesNotExist")), {"carl"}),
        (every(tag("hasAnyOf", ["vip"]), field("countryCode", "isEqualTo", "PR")), {"anna"}),
        (any_of(tag("hasAllOf", ["trial"]), field("firstName", "isEqualTo", "Carl")),
         {"bob", "carl"}),
    ]
    for body, expected in cases:
        assert set(await ws.list_ids(body)) == {p[name] for name in expected}, body


async def test_timestamp_filters_on_created_at(ws: Workspace) -> None:
    early = [await ws.create(f"email:early{i}@example.com") for i in range(2)]
    await asyncio.sleep(0.3)
    middle = time.time()
    await asyncio.sleep(0.3)
    late = [await ws.create(f"email:late{i}@example.com") for i in range(2)]
    iso = datetime.fromtimestamp(middle, UTC).isoformat()
    for value in (middle, iso, str(middle)):
        after = await ws.list_ids(every(field("created_at", "isTimestampAfter", value)))
        before = await ws.list_ids(every(field("created_at", "isTimestampBefore", value)))
        assert (sorted(after), sorted(before)) == (late, early), value
    # an ISO time without offset is read in the request's time zone (else UTC)
    local = datetime.fromtimestamp(middle, ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)
    body = {"timezone": "Asia/Tokyo",
            **every(field("created_at", "isTimestampAfter", local.isoformat()))}
    assert sorted(await ws.list_ids(body)) == late
    # read as UTC, 09:00 later than meant: nothing was created after it
    assert await ws.list_ids(every(field("created_at", "isTimestampAfter", local.isoformat()))
                             ) == []


async def test_bad_filters_are_refused(ws: Workspace) -> None:
    await _define(ws)
    bad: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        (every(field("countryCode", "isAbout", "FR")), ("operator", "isAbout")),
        (every(field("shoeSize", "isEqualTo", 42)), ("field", "shoeSize")),
        (every({"category": "contactMood", "field": "x", "operator": "exists"}),
         ("category", "contactMood")),
        (every(field("language", "hasAnyOf", "fr")), ("value", "fr")),
        (every(field("language", "hasAnyOf", [])), ("value",)),
        (every(field("firstName", "isGreaterThan", "A")), ("operator", "isGreaterThan")),
        (every(field("language", "hasAllOf", ["fr"])), ("operator", "hasAllOf")),
        (every(field("created_at", "isTimestampAfter", "yesterday")), ("value", "yesterday")),
        (every(field("countryCode", "isEqualTo", "XX")), ("value", "XX")),
        (every(field("countryCode", "isEqualTo", {"$ne": None})), ("value",)),
        (every(field("Score", "isEqualTo", "many")), ("value", "many")),
        (every(tag("isEqualTo", "vip")), ("operator", "isEqualTo")),
        (every(tag("hasAnyOf", [""])), ("value",)),
        ({"filter": {"$nor": []}}, ("filter",)),
        ({"filter": [field("email", "exists")]}, ("filter",)),
        ({"filter": {"$and": [{"$or": [{"$and": [field("email", "exists")]}]}]}}, ("nest",)),
        ({"timezone": "Mars/Olympus", **every(field("email", "exists"))}, ("timezone",)),
        ({"sort": "name"}, ("sort",)),
    ]
    for body, mentions in bad:
        answer = await ws.owner.post("/v2/contact/list", json=body)
        assert_error(answer, 422, *mentions)
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"cursorId": "abc"}):
        answer = await ws.owner.post("/v2/contact/list", json={}, params=params)
        assert_error(answer, 422, next(iter(params)))
    assert_error(await ws.owner.post("/v2/contact/list", content=b"[1"), 400)


async def _page(client: httpx.AsyncClient, url: str, body: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    answer = await client.post(url, json=body or {})
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


async def test_pagination_with_limit_cursor_next_and_previous(ws: Workspace) -> None:
    ids = [await ws.create(f"email:p{i:02}@example.com", client=(ws.owner, ws.manager)[i % 2])
           for i in range(25)]
    newest_first = sorted(ids, reverse=True)
    base = ws.system.gateway_url

    default = await ws.list()
    assert [c["id"] for c in default["items"]] == newest_first[:10]  # limit 10 by default

    first = await ws.list(limit=10)
    assert [c["id"] for c in first["items"]] == newest_first[:10]
    assert first["pagination"]["previous"] is None
    nxt = first["pagination"]["next"]
    assert nxt == f"{base}/v2/contact/list?limit=10&cursorId={newest_first[9]}"

    second = await _page(ws.owner, nxt)
    assert [c["id"] for c in second["items"]] == newest_first[10:20]
    prev = second["pagination"]["previous"]
    assert prev is not None and prev.startswith(f"{base}/v2/contact/list?")
    back = await _page(ws.owner, prev)
    assert [c["id"] for c in back["items"]] == newest_first[:10]
    assert back["pagination"]["previous"] is None
    assert back["pagination"]["next"] == nxt

    third = await _page(ws.owner, second["pagination"]["next"])
    assert [c["id"] for c in third["items"]] == newest_first[20:]
    assert third["pagination"]["next"] is None
    assert third["pagination"]["previous"] is not None

    # a cursor in the query string directly, and with a filter carried in the body
    assert [c["id"] for c in (await ws.list(limit=3, cursor=newest_first[0]))["items"]] == (
        newest_first[1:4])
    body = {"search": "p0"}  # p00..p09
    page = await ws.list(body, limit=4)
    seen = [c["id"] for c in page["items"]]
    for _ in range(10):  # bounded walk over the filtered pages
        if page["pagination"]["next"] is None:
            break
        page = await _page(ws.owner, page["pagination"]["next"], body)
        seen += [c["id"] for c in page["items"]]
    assert seen == sorted(ids[:10], reverse=True)
    for limit in (1, 100):
        page = await ws.list(limit=limit)
        assert len(page["items"]) == min(limit, 25)
    assert (await ws.list(limit=100))["pagination"]["next"] is None


async def test_pages_are_stable_when_contacts_are_added_meanwhile(ws: Workspace) -> None:
    original = [await ws.create(f"email:s{i:02}@example.com") for i in range(15)]
    seen: list[int] = []
    page = await ws.list(limit=4)
    seen += [c["id"] for c in page["items"]]
    added: list[int] = []
    for turn in range(10):  # bounded: 15 contacts, 4 a page
        added += [await ws.create(f"email:new{turn}-{i}@example.com", client=ws.manager)
                  for i in range(2)]
        if turn == 1:  # deleting one of the already seen ones does not shift anything either
            await ws.owner.delete(f"/v2/contact/id:{seen[0]}")
        nxt = page["pagination"]["next"]
        if nxt is None:
            break
        page = await _page(ws.owner, nxt)
        seen += [c["id"] for c in page["items"]]
    assert len(seen) == len(set(seen)), "a contact was listed twice"
    assert sorted(seen) == sorted(original), "contacts were skipped or added"
    assert not set(seen) & set(added)
    # the new contacts are on the first page of a fresh listing
    fresh = await ws.list(limit=len(added))
    assert sorted(c["id"] for c in fresh["items"]) == sorted(added)
