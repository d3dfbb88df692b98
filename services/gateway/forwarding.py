"""What a public route does with a call before handing it on: read the body, run its checks,
resolve the contact it names for a service other than contacts."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from services.gateway.auth import Gateway
from services.gateway.http11 import Answer
from services.gateway.json_body import parse_json
from services.gateway.upstream import answer_of
from services.gateway.users import resolve_assignee, with_assignees
from shared.errors import ApiError
from shared.internal import Caller, ResolvedContact
from shared.topology import CONTACTS

EMPTY_OBJECT = b"{}"


async def read_body(request: Request, *, limit: int, required: bool) -> tuple[bytes, Any]:
    """The request's JSON body as sent (to forward unchanged) and as parsed (for checks).

    400 when it is not JSON (or missing when ``required``), 413 when it is larger than
    ``limit`` bytes; ``json_body.parse_json`` says what else JSON must be here. A missing
    optional body reads as ``{}``; one that is sent must be a JSON object (422 otherwise, as
    the OpenAPI document says: ``null`` is not an absent body).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body: {declared} bytes is more than the {limit} accepted")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ApiError(413, f"body: more than the {limit} bytes accepted")
    if not raw.strip():
        if required:
            raise ApiError(400, "body: a JSON body is required")
        return EMPTY_OBJECT, {}
    body = bytes(raw)
    parsed = parse_json(body)
    if not required and not isinstance(parsed, dict):
        raise ApiError(422, f"body: {raw[:100].decode(errors='replace').strip()} is not a JSON "
                       "object")
    return body, parsed


async def check_assignee(gateway: Gateway, caller: Caller, body: Any) -> Any:
    """An assignee (user id or email) must be a user of the caller's workspace (the gateway
    owns users): the body to forward names it by its integer id (None: the body as sent)."""
    return await resolve_assignee(gateway.users, caller, body)


async def show_assignees(gateway: Gateway, caller: Caller, answer: Answer) -> Response:
    """A contact answer with its assignee ids shown as users (``users.with_assignees``)."""
    return await with_assignees(gateway.users, caller, answer)


async def resolve_contact(
    gateway: Gateway, caller: Caller, identifier: str
) -> ResolvedContact | Response:
    """The contact ``identifier`` (as sent: ``id:``, ``email:``, ``phone:``, %-encoded) names
    in the caller's workspace, asked once of the contacts service (which resolves an email or
    phone matching several contacts to the oldest). Else the contacts service's answer, for
    the caller: a 404 for a missing or foreign contact, a 400 for a malformed identifier."""
    answer = await gateway.services.call(
        CONTACTS.name, "GET", f"/v2/contact/{identifier}", caller=caller
    )
    if answer.status_code != 200:
        return answer_of(CONTACTS.name, answer)
    try:
        return ResolvedContact.model_validate_json(answer.content)
    except ValueError as exc:
        raise ApiError(502, "the contacts service answered an unreadable contact") from exc
