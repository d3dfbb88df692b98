"""How a public route hands its call to the service that owns the data."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response

from services.gateway.auth import Gateway
from shared.errors import ApiError
from shared.internal import Caller


async def read_json(request: Request, *, required: bool = True) -> Any:
    """The request's JSON body; 400 when it is not JSON (and missing when required), 413 when
    it is larger than the gateway accepts."""
    limit: int = request.app.state.gateway.max_body_bytes
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
        return None
    try:
        return json.loads(bytes(raw))
    except ValueError as exc:
        raise ApiError(400, f"body: not valid JSON ({exc.args[0]})") from exc


async def check_assignee(gateway: Gateway, caller: Caller, body: Any) -> None:
    """An assignee must be a user of the caller's workspace (the gateway owns users)."""
    if not isinstance(body, dict) or body.get("assignee") is None:
        return
    assignee = body["assignee"]
    if not isinstance(assignee, str) or not await gateway.store.user_in_workspace(
        caller.workspace_id, assignee
    ):
        raise ApiError(422, f"assignee: {assignee!r} is not a user of this workspace")


async def forward(
    request: Request, gateway: Gateway, caller: Caller, *, service: str, body: Any = None
) -> Response:
    """Send the call, path and query unchanged, to ``service`` on behalf of ``caller``."""
    return await gateway.services.forward(
        # the raw path: an identifier with an encoded ?, # or / must reach the service as sent
        service, request.method, request.scope["raw_path"].decode("ascii"), caller=caller,
        json=body,
        params=dict(request.query_params),
    )
