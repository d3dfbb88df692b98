"""The gateway's OpenAPI document lists every contact route, each with examples."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.stack import JointFixture

#: (path, method) of every route of the contacts slice.
ROUTES = [
    ("/v2/contact/{identifier}", "post"),
    ("/v2/contact/{identifier}", "get"),
    ("/v2/contact/{identifier}", "put"),
    ("/v2/contact/{identifier}", "delete"),
    ("/v2/contact/create_or_update/{identifier}", "post"),
    ("/v2/contact/list", "post"),
    ("/v2/contact/{identifier}/tag", "post"),
    ("/v2/contact/{identifier}/tag", "delete"),
    ("/v2/contact/{identifier}/block", "post"),
    ("/v2/contact/{identifier}/unblock", "post"),
    ("/v2/space/tag", "get"),
    ("/v2/space/tag", "post"),
    ("/v2/space/tag", "put"),
    ("/v2/space/tag", "delete"),
    ("/v2/space/custom_field", "get"),
    ("/v2/space/custom_field", "post"),
    ("/v2/space/custom_field/{id}", "get"),
    ("/v2/space/contact_field_order", "get"),
    ("/v2/space/contact_field_order", "put"),
]
WITH_BODY = {(p, m) for p, m in ROUTES if m in ("post", "put")} - {
    ("/v2/contact/{identifier}/block", "post"), ("/v2/contact/{identifier}/unblock", "post")
} | {("/v2/contact/{identifier}/tag", "delete"), ("/v2/space/tag", "delete")}


def _resolve(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """``node`` with every ``$ref`` replaced by what it points at (bounded depth)."""
    if depth > 12:
        return node
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = doc
            for part in ref[2:].split("/"):
                target = target[part]
            return _resolve(doc, target, depth + 1)
        return {k: _resolve(doc, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(doc, v, depth + 1) for v in node]
    return node


def _has_example(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get("example") is not None or node.get("examples"):
            return True
        return any(_has_example(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_example(v) for v in node)
    return False


async def test_openapi_lists_every_contact_route_with_examples(system: JointFixture) -> None:
    system.require("contacts", "gateway")
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30.0) as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["openapi"].startswith("3.")
    missing = [(p, m) for p, m in ROUTES if m not in doc["paths"].get(p, {})]
    assert missing == []

    for path, method in ROUTES:
        op = _resolve(doc, doc["paths"][path][method])
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert "200" in op["responses"] or "201" in op["responses"], where
        ok = op["responses"].get("200") or op["responses"]["201"]
        assert _has_example(ok), f"{where}: no example in its answer"
        for code in ("401", "404", "422", "429"):
            error = op["responses"].get(code)
            assert error is not None, f"{where}: {code} not documented"
            schema = error["content"]["application/json"]["schema"]
            assert set(schema["properties"]) == {"code", "message"}, where
        if "{identifier}" in path:
            (param,) = [p for p in op["parameters"] if p["name"] == "identifier"]
            assert param["in"] == "path" and param["required"], where
            assert _has_example(param), f"{where}: identifier without example"
        if (path, method) in WITH_BODY:
            body = op.get("requestBody")
            assert body is not None, f"{where}: no request body"
            assert _has_example(body["content"]["application/json"]), (
                f"{where}: request body without example")
        names = {str(p.get("name")).lower() for p in op.get("parameters", [])}
        assert "authorization" in names or doc.get("components", {}).get("securitySchemes"), (
            f"{where}: authentication not documented")

    delete = doc["paths"]["/v2/contact/{identifier}"]["delete"]
    assert "403" in delete["responses"]
    assert "manager" in (delete.get("summary", "") + delete.get("description", "")).lower()
    listing = _resolve(doc, doc["paths"]["/v2/contact/list"]["post"])
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"limit", "cursorId"} <= set(params), set(params)
    assert (params["limit"]["schema"]["minimum"], params["limit"]["schema"]["maximum"]) == (1, 100)
    assert params["limit"]["schema"]["default"] == 10

    # respond.io's shapes (issue 7): integer ids, colorCode, dataType/allowedValues, lifecycle
    schemas = doc["components"]["schemas"]
    contact = _resolve(doc, schemas["Contact"])
    assert "lifecycle" in contact["properties"]
    category = _resolve(doc, listing["requestBody"]["content"]["application/json"]["schema"])
    condition = str(category)
    assert "lifecycle" in condition and "contactTag" in condition
    tag_ops = doc["paths"]["/v2/space/tag"]
    for method in ("post", "put"):
        body = tag_ops[method]["requestBody"]["content"]["application/json"]["schema"]
        assert "colorCode" in body["properties"] and "colour" not in body["properties"]
    assert set(_resolve(doc, schemas["Tag"])["properties"]) == {
        "id", "name", "description", "emoji", "colorCode"}
    deleted = _resolve(doc, tag_ops["delete"]["responses"]["200"]["content"])
    assert set(deleted["application/json"]["schema"]["properties"]) == {"code", "message"}
    fields = _resolve(doc, doc["paths"]["/v2/space/custom_field"]["get"])
    assert {"limit", "cursorId"} <= {p["name"] for p in fields["parameters"]}
    page = fields["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(page["properties"]) == {"items", "pagination"}
    assert set(page["properties"]["items"]["items"]["properties"]) == {
        "id", "name", "slug", "description", "dataType", "allowedValues"}
    one = _resolve(doc, doc["paths"]["/v2/space/custom_field/{id}"]["get"])
    (param,) = [p for p in one["parameters"] if p["name"] == "id"]
    assert param["schema"]["type"] == "integer" and param["schema"]["minimum"] == 1
    created = doc["paths"]["/v2/space/custom_field"]["post"]["requestBody"]
    body = created["content"]["application/json"]["schema"]
    assert {"name", "slug", "description", "dataType", "allowedValues"} == set(body["properties"])
    assert "time" in str(body["properties"]["dataType"])
