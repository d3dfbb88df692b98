"""No input gets a 500 (issue 7): each bad input seen while probing the API, sent through the
gateway, is a clear 4xx ``{code, message}`` naming the field and the value, and changes
nothing (the workspace reads back the same, and no event is published).

Bodies are sent as raw bytes (``send``): ``NaN``, lone surrogates and deep nesting are what
a careless client's encoder produces, not what ``httpx``'s ``json=`` would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.gateway.json_body import MAX_DEPTH
from shared.settings import Topics
from tests.e2e.contacts.conftest import Workspace, assert_error
from tests.fixtures.stack import JointFixture
from tests.support.events import EventTap

CUSTOM_FIELDS = (
    {"name": "Score", "dataType": "number"},
    {"name": "Notes", "dataType": "text"},
    {"name": "Plan", "dataType": "list", "allowedValues": ["gold", "silver"]},
)
#: What the gateway refuses a body for: (bytes, status, words the message names).
NOT_JSON: tuple[tuple[bytes, int, tuple[str, ...]], ...] = (
    (b'{"firstName": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, ("body", str(MAX_DEPTH))),
    (b'{"custom_fields": [{"name": "Score", "value": NaN}]}', 400, ("NaN",)),
    (b'{"custom_fields": [{"name": "Score", "value": Infinity}]}', 400, ("Infinity",)),
    (b'{"custom_fields": [{"name": "Score", "value": -Infinity}]}', 400, ("-Infinity",)),
    (b'{"custom_fields": [{"name": "Score", "value": 1e999}]}', 400, ("1e999",)),
)


@pytest.fixture
async def ws(workspace: dict[str, Any], system: JointFixture) -> AsyncIterator[Workspace]:
    """A fresh workspace with a client per role (the helpers of the contacts e2e tests)."""
    system.require("contacts", "gateway")
    space = Workspace(system=system, id=workspace["workspace_id"], tokens=workspace["tokens"])
    try:
        yield space
    finally:
        await space.close()


async def send(client: httpx.AsyncClient, method: str, path: str, body: bytes | Any,
               **params: Any) -> httpx.Response:
    """``body`` as sent: bytes as they are, anything else as Python's ``json.dumps`` writes
    it (ASCII, so a lone surrogate travels as its ``\\ud800`` escape; NaN as ``NaN``)."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.request(method, path, content=content, params=params or None,
                                headers={"Content-Type": "application/json"})


async def prepared(ws: Workspace) -> int:
    """Custom fields, a catalog tag, a saved field order and a contact; its id."""
    for definition in CUSTOM_FIELDS:
        answer = await ws.owner.post("/v2/space/custom_field", json=definition)
        assert answer.status_code == 201, answer.text
    assert (await ws.owner.post("/v2/space/tag", json={"name": "vip"})).status_code == 201
    order = {"fields": ["Score", "firstName"]}
    assert (await ws.owner.put("/v2/space/contact_field_order", json=order)).status_code == 200
    return await ws.create("email:ann@example.com", {
        "firstName": "Ann", "custom_fields": [{"name": "Score", "value": 7},
                                              {"name": "Notes", "value": "first\nsecond"}]})


def notes(value: str) -> dict[str, Any]:
    """A contact body setting the text custom field ``Notes``."""
    return {"custom_fields": [{"name": "Notes", "value": value}]}


async def snapshot(ws: Workspace, contact_id: int) -> dict[str, Any]:
    """What a bad input must leave as it was."""
    reads = {"contact": f"/v2/contact/id:{contact_id}", "tags": "/v2/space/tag",
             "fields": "/v2/space/custom_field", "order": "/v2/space/contact_field_order"}
    state = {}
    for name, path in reads.items():
        answer = await ws.owner.get(path)
        assert answer.status_code == 200, answer.text
        state[name] = answer.json()
    listed = await ws.list(limit=100)
    state["ids"] = [item["id"] for item in listed["items"]]
    return state


class Unchanged:
    """``async with Unchanged(ws, cid)``: the workspace reads back the same at the end, and
    nothing was published for it meanwhile."""

    def __init__(self, ws: Workspace, contact_id: int):
        self.ws, self.contact_id = ws, contact_id
        self.tap = EventTap(ws.system.kafka_bootstrap, Topics().contacts_events)

    async def __aenter__(self) -> Unchanged:
        self.before = await snapshot(self.ws, self.contact_id)
        await self.tap.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                published = await self.tap.wait_for(1, workspace_id=self.ws.id, timeout_s=2.0)
                assert published == [], [e.type for e in published]
                assert await snapshot(self.ws, self.contact_id) == self.before
        finally:
            await self.tap.__aexit__(*exc)


# ------------------------------------------------------------------------- not JSON (400)


async def test_deep_nesting_nan_and_infinities_are_400_on_every_route_with_a_body(
    ws: Workspace,
) -> None:
    cid = await prepared(ws)
    routes = [("POST", "/v2/contact/email:bob@example.com"), ("PUT", f"/v2/contact/id:{cid}"),
              ("POST", f"/v2/contact/create_or_update/id:{cid}"), ("POST", "/v2/contact/list"),
              ("POST", f"/v2/contact/id:{cid}/tag"), ("POST", "/v2/space/tag"),
              ("POST", "/v2/space/custom_field"), ("PUT", "/v2/space/contact_field_order")]
    async with Unchanged(ws, cid):
        for method, path in routes:
            for body, status, mentions in NOT_JSON:
                assert_error(await send(ws.owner, method, path, body), status, *mentions)
        # deep inside a string is no nesting; 64 levels are read (and refused by the rules)
        inside = json.dumps({"firstName": "[" * 5000}).encode()
        assert_error(await send(ws.owner, "PUT", f"/v2/contact/id:{cid}", inside), 422,
                     "firstName", "255")
        at_limit = b'{"firstName": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
        assert_error(await send(ws.owner, "PUT", f"/v2/contact/id:{cid}", at_limit), 422,
                     "firstName")
    # a large float is a number like any other
    answer = await ws.owner.put(f"/v2/contact/id:{cid}",
                                json={"custom_fields": [{"name": "Score", "value": 1e300}]})
    assert answer.status_code == 200, answer.text


# --------------------------------------------------------------------- lone surrogates (422)


async def test_lone_surrogates_are_422_naming_the_field(ws: Workspace) -> None:
    cid = await prepared(ws)
    bad = "A\ud800B"
    calls: list[tuple[str, str, Any, str]] = [
        ("PUT", f"/v2/contact/id:{cid}", {"firstName": bad}, "firstName"),
        ("PUT", f"/v2/contact/id:{cid}", {"lastName": bad}, "lastName"),
        ("POST", "/v2/contact/email:bob@example.com", {"firstName": bad}, "firstName"),
        ("PUT", f"/v2/contact/id:{cid}", {"custom_fields": [{"name": "Notes", "value": bad}]},
         "custom_fields[0].value"),
        ("PUT", f"/v2/contact/id:{cid}", {"custom_fields": [{"name": bad, "value": 1}]},
         "custom_fields[0].name"),
        ("PUT", f"/v2/contact/id:{cid}", {bad: "x"}, "body"),
        ("POST", f"/v2/contact/id:{cid}/tag", ["vip", bad], "body[1]"),
        ("DELETE", f"/v2/contact/id:{cid}/tag", [bad], "body[0]"),
        ("POST", "/v2/contact/list", {"search": bad}, "search"),
        ("POST", "/v2/space/tag", {"name": bad}, "name"),
        ("PUT", "/v2/space/tag", {"currentName": "vip", "name": bad}, "name"),
        ("DELETE", "/v2/space/tag", {"name": bad}, "name"),
        ("POST", "/v2/space/custom_field", {"name": bad, "dataType": "text"}, "name"),
        ("PUT", "/v2/space/contact_field_order", {"fields": [bad]}, "fields[0]"),
    ]
    async with Unchanged(ws, cid):
        for method, path, body, field in calls:
            answer = await send(ws.owner, method, path, body)
            assert_error(answer, 422, f"{field}:", "\\ud800", "U+D800", "lone surrogate")
        # the raw UTF-8 bytes of a surrogate are no better than its escape
        raw = b'{"firstName": "A\xed\xa0\x80B"}'
        assert_error(await send(ws.owner, "PUT", f"/v2/contact/id:{cid}", raw), 422,
                     "firstName", "U+D800")
    # a pair of surrogates is one character, and welcome
    answer = await send(ws.owner, "PUT", f"/v2/contact/id:{cid}", {"firstName": "Ann 😀"})
    assert answer.status_code == 200, answer.text
    assert (await ws.get(cid))["firstName"] == "Ann 😀"


# --------------------------------------------------------------- integers out of range (422)


async def test_integers_beyond_64_bits_are_422(ws: Workspace) -> None:
    cid = await prepared(ws)
    id_filter = {"filter": {"$and": [{"category": "contactField", "field": "id",
                                      "operator": "isEqualTo", "value": 10**30}]}}
    async with Unchanged(ws, cid):
        for name in ("cursorId", "beforeId"):
            for value in (2**63, 10**30):
                answer = await send(ws.owner, "POST", "/v2/contact/list", {}, **{name: value})
                assert_error(answer, 422, name, str(value))
        answer = await send(ws.owner, "POST", "/v2/contact/list", id_filter)
        assert_error(answer, 422, "filter.$and[0].value", str(10**30), "64-bit")
        for value in (10**30, -(10**30), 2**53, str(10**30)):
            body = {"custom_fields": [{"name": "Score", "value": value}]}
            for method, path in (("PUT", f"/v2/contact/id:{cid}"),
                                 ("POST", "/v2/contact/email:bob@example.com")):
                assert_error(await send(ws.owner, method, path, body), 422,
                             "custom_fields.Score", str(value).strip("-"), "2^53")
            score = {"filter": {"$and": [{"category": "contactField", "field": "Score",
                                          "operator": "isGreaterThan", "value": value}]}}
            assert_error(await send(ws.owner, "POST", "/v2/contact/list", score), 422,
                         "filter.$and[0].value", "2^53")
    # the bounds themselves are fine
    page = await send(ws.owner, "POST", "/v2/contact/list", {}, cursorId=2**63 - 1)
    assert page.status_code == 200, page.text
    assert [item["id"] for item in page.json()["items"]] == [cid]
    for value in (2**53 - 1, -(2**53 - 1), 1e30):
        await ws.update(cid, {"custom_fields": [{"name": "Score", "value": value}]})
        score = {c["name"]: c["value"] for c in (await ws.get(cid))["custom_fields"]}["Score"]
        assert score == value
    id_filter["filter"]["$and"][0]["value"] = 2**63 - 1
    assert await ws.list_ids(id_filter) == []


# ------------------------------------------------------------ identifiers, ASCII digits (422)


async def test_identifiers_with_unicode_digits_are_422_never_another_contact(
    ws: Workspace,
) -> None:
    cid = await prepared(ws)
    assert cid == 1  # so that a fullwidth 1 would have found it
    async with Unchanged(ws, cid):
        for digits in ("²", "①", "１", "٣", "1²"):
            identifier = f"id:{digits}"
            for method, body in (("GET", None), ("PUT", {"firstName": "Bob"}),
                                 ("DELETE", None), ("POST", None)):
                path = f"/v2/contact/{identifier}" + ("/block" if method == "POST" else "")
                answer = await ws.owner.request(method, path, json=body)
                assert_error(answer, 422, "identifier", identifier, "contact id")
            answer = await ws.owner.post("/v2/contact/list", params={"cursorId": digits})
            assert_error(answer, 422, "cursorId")
            id_filter = {"filter": {"$and": [{"category": "contactField", "field": "id",
                                              "operator": "isEqualTo", "value": digits}]}}
            answer = await ws.owner.post("/v2/contact/list", json=id_filter)
            assert_error(answer, 422, "filter.$and[0].value", digits)


# ------------------------------------------------------------------- control characters (422)


async def test_control_characters_are_422_except_tab_and_line_ends_in_multi_line_texts(
    ws: Workspace,
) -> None:
    cid = await prepared(ws)
    calls: list[tuple[str, str, Any, str, str]] = [
        ("PUT", f"/v2/contact/id:{cid}", {"firstName": "A\u0000B"}, "firstName", "U+0000"),
        ("PUT", f"/v2/contact/id:{cid}", {"firstName": "A\tB"}, "firstName", "U+0009"),
        ("PUT", f"/v2/contact/id:{cid}", {"lastName": "A\nB"}, "lastName", "U+000A"),
        ("POST", "/v2/contact/email:bob@example.com", {"firstName": "\u001bBob"}, "firstName",
         "U+001B"),
        ("PUT", f"/v2/contact/id:{cid}", {"email": "a\u0000b@example.com"}, "email", "U+0000"),
        ("PUT", f"/v2/contact/id:{cid}", {"profilePic": "https://x.example/\u0000"},
         "profilePic", "U+0000"),
        ("PUT", f"/v2/contact/id:{cid}", notes("a\u0000b"), "custom_fields.Notes", "U+0000"),
        ("PUT", f"/v2/contact/id:{cid}", notes("a\u007fb"), "custom_fields.Notes", "U+007F"),
        ("POST", f"/v2/contact/id:{cid}/tag", ["a\u0000b"], "tags", "U+0000"),
        ("POST", f"/v2/contact/id:{cid}/tag", ["a\nb"], "tags", "U+000A"),
        ("POST", "/v2/contact/list", {"search": "ann\u0000"}, "search", "U+0000"),
        ("POST", "/v2/space/tag", {"name": "a\u0000b"}, "name", "U+0000"),
        ("POST", "/v2/space/tag", {"name": "ok", "description": "a\u0000"}, "description",
         "U+0000"),
        ("PUT", "/v2/space/tag", {"currentName": "vip", "emoji": "\u0007"}, "emoji", "U+0007"),
        ("POST", "/v2/space/custom_field", {"name": "a\u0000b", "dataType": "text"}, "name",
         "a"),
        ("POST", "/v2/space/custom_field",
         {"name": "Tier", "dataType": "list", "allowedValues": ["a\u0000b"]}, "allowedValues",
         "U+0000"),
        ("POST", "/v2/space/custom_field",
         {"name": "Tier", "dataType": "text", "description": "\u0000"}, "description", "U+0000"),
    ]
    async with Unchanged(ws, cid):
        for method, path, body, field, shown in calls:
            assert_error(await send(ws.owner, method, path, body), 422, f"{field}:", shown)
    # multi-line texts keep tab, line feed and carriage return; names lose surrounding space
    text = "line one\r\nline\ttwo\n"
    await ws.update(cid, {"firstName": " Ann\n", **notes(text)})
    contact = await ws.get(cid)
    assert contact["firstName"] == "Ann"
    assert {c["name"]: c["value"] for c in contact["custom_fields"]}["Notes"] == text
    answer = await ws.owner.post("/v2/space/tag", json={"name": "gold",
                                                        "description": "Top\n\tcustomers"})
    assert answer.status_code == 201, answer.text


# ------------------------------------------------------------------- the field order (422)


async def test_a_field_order_without_its_list_is_422_never_a_reset(ws: Workspace) -> None:
    cid = await prepared(ws)
    async with Unchanged(ws, cid):
        for body, field in ((b"null", "body"), ({}, "fields"), ({"fields": None}, "fields"),
                            (["firstName"], "body"), ({"fields": "firstName"}, "fields")):
            answer = await send(ws.owner, "PUT", "/v2/space/contact_field_order", body)
            assert_error(answer, 422, f"{field}:")
        answer = await ws.owner.put("/v2/space/contact_field_order")  # no body at all
        assert_error(answer, 400, "body")
    # an empty list is the way back to the default order
    answer = await ws.owner.put("/v2/space/contact_field_order", json={"fields": []})
    assert answer.status_code == 200, answer.text
    assert answer.json()["fields"][:2] == ["firstName", "lastName"]


async def test_a_time_zone_that_is_no_zone_name_is_422(ws: Workspace) -> None:
    for zone in ("a" * 5000, "America", "../../etc/passwd"):
        answer = await ws.owner.post("/v2/contact/list", json={"timezone": zone})
        assert_error(answer, 422, "timezone")
