"""Public ``/v2/contact`` routes; the contacts service owns the data and its rules."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.gateway.auth import Gateway, authenticated, get_gateway, require_roles
from services.gateway.domain import MANAGERS
from services.gateway.routes.forwarding import check_assignee, forward, read_json
from services.gateway.schemas import (
    Contact,
    ContactAction,
    ContactInput,
    ContactList,
    ErrorBody,
    ListRequest,
    body_doc,
)
from shared.internal import Caller

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 429, 503)
}
router = APIRouter(prefix="/v2/contact", tags=["contacts"], responses=ERRORS)

Identifier = Path(
    description="`id:123`, `email:ann@example.com` or `phone:+33612345678`",
    examples=["id:42", "email:ann@example.com", "phone:+33612345678"],
)
TAGS_EXAMPLE = ["vip", "newsletter"]
managers_only = require_roles(*MANAGERS)


@router.post("/list", response_model=ContactList, openapi_extra=body_doc(ListRequest),
             summary="List contacts (search, filter, cursor pagination)")
async def list_contacts(
    request: Request,
    limit: int = Query(default=10, ge=1, le=100, description="Contacts per page",
                       examples=[10]),
    cursor_id: int | None = Query(default=None, alias="cursorId", ge=1, examples=[120],
                                  description="Next page: contacts with ids below this one"),
    before_id: int | None = Query(default=None, alias="beforeId", ge=1, examples=[131],
                                  description="Previous page: contacts with ids above this one"),
    caller: Caller = Depends(authenticated),
    gateway: Gateway = Depends(get_gateway),
) -> Response:
    """Contacts of the workspace matching ``search`` and ``filter``, newest first.

    The query parameters are documented and checked here; the contacts service applies them
    (they are forwarded unchanged, like the `next` / `previous` URLs of the answer carry them).
    """
    body = await read_json(request, required=False)
    return await forward(request, gateway, caller, service="contacts", body=body or {})


@router.post("/create_or_update/{identifier}", response_model=ContactAction,
             openapi_extra=body_doc(ContactInput), summary="Create or update a contact")
async def upsert_contact(request: Request, identifier: str = Identifier,
                         caller: Caller = Depends(authenticated),
                         gateway: Gateway = Depends(get_gateway)) -> Response:
    """Update the contact the identifier names, or create it when there is none."""
    body = await read_json(request, required=False) or {}
    await check_assignee(gateway, caller, body)
    return await forward(request, gateway, caller, service="contacts", body=body)


@router.post("/{identifier}", response_model=ContactAction,
             openapi_extra=body_doc(ContactInput), summary="Create a contact")
async def create_contact(request: Request, identifier: str = Identifier,
                         caller: Caller = Depends(authenticated),
                         gateway: Gateway = Depends(get_gateway)) -> Response:
    """Create a contact; the identifier (`email:` or `phone:`) sets that field."""
    body = await read_json(request, required=False) or {}
    await check_assignee(gateway, caller, body)
    return await forward(request, gateway, caller, service="contacts", body=body)


@router.get("/{identifier}", response_model=Contact, summary="Get a contact")
async def get_contact(request: Request, identifier: str = Identifier,
                      caller: Caller = Depends(authenticated),
                      gateway: Gateway = Depends(get_gateway)) -> Response:
    """The contact the identifier names (`email:`/`phone:` resolve to the oldest match)."""
    return await forward(request, gateway, caller, service="contacts")


@router.put("/{identifier}", response_model=ContactAction,
            openapi_extra=body_doc(ContactInput), summary="Update a contact")
async def update_contact(request: Request, identifier: str = Identifier,
                         caller: Caller = Depends(authenticated),
                         gateway: Gateway = Depends(get_gateway)) -> Response:
    """Change the fields sent; absent fields stay, null clears."""
    body = await read_json(request)
    await check_assignee(gateway, caller, body)
    return await forward(request, gateway, caller, service="contacts", body=body)


@router.delete("/{identifier}", response_model=ContactAction,
               summary="Delete a contact (owner, manager)")
async def delete_contact(request: Request, identifier: str = Identifier,
                         caller: Caller = Depends(managers_only),
                         gateway: Gateway = Depends(get_gateway)) -> Response:
    """Delete the contact for good; its conversation history goes with it."""
    return await forward(request, gateway, caller, service="contacts")


@router.post("/{identifier}/tag", response_model=ContactAction,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"type": "array", "items": {"type": "string", "maxLength": 255},
                            "minItems": 1, "maxItems": 10},
                 "example": TAGS_EXAMPLE}}}},
             summary="Add tags to a contact")
async def add_tags(request: Request, identifier: str = Identifier,
                   caller: Caller = Depends(authenticated),
                   gateway: Gateway = Depends(get_gateway)) -> Response:
    """Add 1-10 tags by name; unknown names join the workspace catalog."""
    body = await read_json(request)
    return await forward(request, gateway, caller, service="contacts", body=body)


@router.delete("/{identifier}/tag", response_model=ContactAction,
               openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                   "schema": {"type": "array", "items": {"type": "string"}},
                   "example": TAGS_EXAMPLE}}}},
               summary="Remove tags from a contact")
async def remove_tags(request: Request, identifier: str = Identifier,
                      caller: Caller = Depends(authenticated),
                      gateway: Gateway = Depends(get_gateway)) -> Response:
    """Remove tags from the contact; the workspace catalog keeps them."""
    body = await read_json(request)
    return await forward(request, gateway, caller, service="contacts", body=body)


@router.post("/{identifier}/block", response_model=ContactAction, summary="Block a contact")
async def block_contact(request: Request, identifier: str = Identifier,
                        caller: Caller = Depends(authenticated),
                        gateway: Gateway = Depends(get_gateway)) -> Response:
    """Block the contact: its workflows stop and its new messages are hidden."""
    return await forward(request, gateway, caller, service="contacts")


@router.post("/{identifier}/unblock", response_model=ContactAction, summary="Unblock a contact")
async def unblock_contact(request: Request, identifier: str = Identifier,
                          caller: Caller = Depends(authenticated),
                          gateway: Gateway = Depends(get_gateway)) -> Response:
    """Unblock the contact (from now on)."""
    return await forward(request, gateway, caller, service="contacts")
