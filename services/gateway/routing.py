"""Declarative public routes: a route is a row (``Route``); ``register`` makes each row a
FastAPI route that authenticates, checks the role, runs the row's checks and forwards the
call, path and query as sent, to the service that owns it.

FastAPI still sees one endpoint per row, with the row's path and query parameters, body,
answers and summary, so ``/openapi.json`` documents every route; the gateway only validates
what it documents (parameters, JSON-ness of the body) and forwards the body's bytes
unchanged: the owning service validates the rest.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes

from fastapi import APIRouter, FastAPI, Header, Path, Query, Request, Response
from pydantic import TypeAdapter

from services.gateway.auth import Gateway, authenticated
from services.gateway.forwarding import read_body, resolve_contact
from services.gateway.http11 import Answer
from services.gateway.methods import method_not_allowed
from services.gateway.upstream import idempotency_header
from shared.api.errors import ErrorBody
from shared.api.roles import ROLES, Role
from shared.errors import ApiError
from shared.internal import Caller
from shared.topology import BACKENDS, CONTACTS

#: A check of a call's parsed body, run before forwarding (e.g. the assignee check); it
#: gives the body to forward instead (sent as compact JSON), or None to forward it as sent.
Check = Callable[[Gateway, Caller, Any], Awaitable[Any]]
#: What becomes of the owner's answer before the caller gets it (e.g. assignees shown).
AnswerFilter = Callable[[Gateway, Caller, Answer], Awaitable[Response]]

#: The methods a literal path that does not take them answers 405 for.
GUARDED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: Every error a public route may answer, in the ``{code, message}`` shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 429, 503)
}
#: What an identifier of each kind looks like: `id:` and a contact id of at most 18 ASCII
#: digits, leading zeros allowed (that the whole is at most 18 digits is the owner's 422: a
#: regex without look-ahead cannot say it), `email:` or `phone:` and a one-line text
#: (whether that is an email address or a phone number is for the owner to say: 422).
IDENTIFIER_KINDS: dict[str, str] = {
    "id": "id:0{0,17}[1-9][0-9]{0,17}",
    "email": r"email:[^\x00-\x1f\x7f]+",
    "phone": r"phone:[^\x00-\x1f\x7f]+",
}
IDENTIFIER_EXAMPLES = {"id": "id:42", "email": "email:ann@example.com",
                       "phone": "phone:+33612345678"}


def identifier_param(kinds: Sequence[str]) -> Any:
    """The ``{identifier}`` path parameter taking ``kinds``, documented with its pattern (the
    owner checks it; its 422 names the identifier)."""
    return Path(
        description=", ".join(f"`{IDENTIFIER_EXAMPLES[k]}`" for k in kinds),
        examples=[IDENTIFIER_EXAMPLES[k] for k in kinds],
        json_schema_extra={"pattern": f"^({'|'.join(IDENTIFIER_KINDS[k] for k in kinds)})$"},
    )


#: Documentation of the path parameters the public routes use.
PATH_PARAMS: dict[str, Any] = {
    "id": Path(description="Integer id, per workspace", ge=1, le=2**63 - 1, examples=[1]),
    "messageId": Path(description="Message id, per workspace", ge=1, le=2**63 - 1,
                      examples=[1]),
}
#: Path parameters that are not text, by name (FastAPI checks them; OpenAPI shows the type).
PATH_TYPES: dict[str, Any] = {"id": int, "messageId": int}
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
#: The ``Idempotency-Key`` header as documented on the POST rows that honour it (the gateway
#: checks 1-255 printable ASCII characters; HTTP strips a value's surrounding spaces, so the
#: document asks for none there).
IDEMPOTENCY_KEY_PARAM: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "The same key from the same workspace within 24 h replays the first answer "
    "(`Idempotent-Replayed: true`) and does nothing again; with another body it is a 422",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255,
               "pattern": r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"},
}
AUTHORIZATION = Header(
    default=None, description="`Bearer <API token>` of one user of one workspace"
)


@dataclass(frozen=True, kw_only=True)
class QueryParam:
    """A query parameter the gateway documents and checks (the owner reads it too)."""

    name: str
    annotation: Any
    default: Any = None
    description: str = ""
    example: Any = None
    ge: int | None = None
    le: int | None = None


@dataclass(frozen=True, kw_only=True)
class Route:
    """One public route: where it goes, who may call it and what OpenAPI says about it.

    Rows register in order: a literal path (``/v2/contact/list``) must come before a
    parameter path of the same shape (``/v2/contact/{identifier}``).
    """

    method: str
    path: str
    #: The service that owns the route's data (``shared.topology``).
    service: str
    #: Operation name (the OpenAPI operationId is built from it).
    name: str
    summary: str
    description: str = ""
    #: Model of the answer (OpenAPI only: the owner's answer is passed on as it is).
    answer: Any = None
    status_code: int = 200
    roles: tuple[Role, ...] = ROLES
    #: Model or type of the JSON body (OpenAPI; the gateway checks only that it is JSON).
    body: Any = None
    #: False: a missing body is sent on as ``{}``.
    body_required: bool = True
    body_example: Any = None
    query: tuple[QueryParam, ...] = ()
    checks: tuple[Check, ...] = ()
    #: Runs on the owner's answer (parsed only when needed); None: passed on as it is.
    answer_filter: AnswerFilter | None = None
    #: Ask contacts for the ``{identifier}`` first; forward ``id:N`` and the contact's
    #: phone and email (``shared.internal.ResolvedContact``) to the owner.
    resolve_contact: bool = False
    #: The owner honours an ``Idempotency-Key`` (documented as a header parameter).
    idempotent: bool = False
    #: The kinds of ``{identifier}`` the route takes (a create takes no ``id:``).
    identifiers: tuple[str, ...] = ("id", "email", "phone")


def register(app: FastAPI | APIRouter, routes: Sequence[Route], *, tag: str) -> None:
    """Add every row of ``routes`` to ``app`` as a documented FastAPI route."""
    owners = {s.name for s in BACKENDS}
    guarded: set[str] = set()
    for route in routes:
        if route.service not in owners:
            raise ValueError(f"{route.method} {route.path}: no service {route.service!r}")
        if route.resolve_contact and (
            "{identifier}" not in route.path or route.service == CONTACTS.name
        ):
            raise ValueError(f"{route.method} {route.path}: nothing to resolve for contacts")
        app.add_api_route(
            route.path,
            _endpoint(route),
            methods=[route.method],
            name=route.name,
            summary=route.summary,
            description=route.description,
            response_model=route.answer,
            status_code=route.status_code,
            responses=ERRORS,
            tags=[tag],
            openapi_extra=_openapi_extra(route),
        )
        if "{" not in route.path and route.path not in guarded:
            # The other methods of a literal path answer 405 (with Allow) rather than reach a
            # parameter path of the same shape registered after it.
            guarded.add(route.path)
            taken = {r.method for r in routes if r.path == route.path}
            app.add_api_route(route.path, method_not_allowed, include_in_schema=False,
                              methods=sorted(set(GUARDED_METHODS) - taken))


def _endpoint(route: Route) -> Callable[..., Awaitable[Response]]:
    """The endpoint of one row; everything it needs per call is worked out here, once."""
    service, method = route.service, route.method
    roles = None if set(route.roles) >= set(ROLES) else frozenset(route.roles)
    needs = ", ".join(route.roles)
    reads_body, body_required, checks = route.body is not None, route.body_required, route.checks
    answer_filter = route.answer_filter
    segment = route.path.split("/").index("{identifier}") if route.resolve_contact else -1
    paged = {"cursorId", "beforeId"} <= {q.name for q in route.query}

    async def endpoint(request: Request, authorization: str | None = None, **_: Any) -> Response:
        gateway: Gateway = request.app.state.gateway
        caller = await authenticated(request, gateway, authorization)
        if roles is not None and caller.role not in roles:
            raise ApiError(403, f"role {caller.role!r} may not do this; it needs one of: {needs}")
        if paged and _.get("cursorId") is not None and _.get("beforeId") is not None:
            raise ApiError(422, f"cursorId: {_['cursorId']} and beforeId: {_['beforeId']} may "
                           "not be sent together")
        keyed = idempotency_header(request.headers) if method == "POST" else None
        content = None
        if reads_body:
            content, parsed = await read_body(
                request, limit=gateway.max_body_bytes, required=body_required
            )
            for check in checks:
                changed = await check(gateway, caller, parsed)
                if changed is not None:
                    parsed = changed
                    content = json.dumps(changed, ensure_ascii=False,
                                         separators=(",", ":")).encode()
        scope = request.scope
        path = _raw_path(scope)
        headers = keyed
        if segment >= 0:
            parts = path.split("/")
            contact = await resolve_contact(gateway, caller, parts[segment])
            if isinstance(contact, Response):
                return contact
            parts[segment] = f"id:{contact.id}"
            path, headers = "/".join(parts), {**contact.headers(), **(keyed or {})}
        query = scope["query_string"]
        target = f"{path}?{_as_text(query, safe=_QUERY_SAFE)}" if query else path
        if answer_filter is not None:
            answer = await gateway.services.call(
                service, method, target, caller=caller, content=content, headers=headers)
            return await answer_filter(gateway, caller, answer)
        return await gateway.services.forward(
            service, method, target, caller=caller, content=content, headers=headers
        )

    endpoint.__name__ = route.name
    endpoint.__doc__ = route.description
    endpoint.__signature__ = _signature(route)  # type: ignore[attr-defined]
    return endpoint


def _raw_path(scope: MutableMapping[str, Any]) -> str:
    """The path as the caller sent it: an identifier with an encoded ?, # or / must reach the
    owner as sent (some servers put the query in ``raw_path``; it is cut off here)."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        return quote(scope["path"])
    return _as_text(raw.partition(b"?")[0], safe=_PATH_SAFE)


def _as_text(raw: bytes, *, safe: str) -> str:
    """Bytes of a URL as text; bytes beyond ASCII (a client that did not encode them)
    %-encoded, so the owner decodes them as the gateway would have."""
    return raw.decode("ascii") if raw.isascii() else quote_from_bytes(raw, safe=safe)


def _signature(route: Route) -> inspect.Signature:
    """What FastAPI reads to document and check a row's parameters."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=Request)]
    for part in route.path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            doc = (identifier_param(route.identifiers) if name == "identifier"
                   else PATH_PARAMS.get(name, Path()))
            params.append(inspect.Parameter(name, keyword, annotation=PATH_TYPES.get(name, str),
                                            default=doc))
    for q in route.query:
        examples = None if q.example is None else [q.example]
        default = Query(default=q.default, ge=q.ge, le=q.le, description=q.description,
                        examples=examples)
        params.append(inspect.Parameter(q.name, keyword, annotation=q.annotation,
                                        default=default))
    params.append(inspect.Parameter("authorization", keyword, annotation=str | None,
                                    default=AUTHORIZATION))
    return inspect.Signature(params, return_annotation=Response)


def _openapi_extra(route: Route) -> dict[str, Any] | None:
    """What a row adds to its OpenAPI operation: its body, its ``Idempotency-Key``."""
    extra = _body_doc(route) if route.body is not None else {}
    if route.idempotent:
        extra["parameters"] = [IDEMPOTENCY_KEY_PARAM]
    return extra or None


def _body_doc(route: Route) -> dict[str, Any]:
    """``openapi_extra`` describing the JSON body of a row (forwarded, not re-validated)."""
    schema = _inline_refs(TypeAdapter(route.body).json_schema())
    content: dict[str, Any] = {"schema": schema}
    if route.body_example is not None:
        content["example"] = route.body_example
    return {"requestBody": {"required": route.body_required,
                            "content": {"application/json": content}}}


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``#/$defs/X`` references by their definitions (OpenAPI bodies stand alone)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result
