"""Public ``/v2/space`` routes of the workspace catalog: tags, custom fields, field order."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from services.gateway.auth import Gateway, authenticated, get_gateway
from services.gateway.routes.contacts import ERRORS
from services.gateway.routes.forwarding import forward, read_json
from services.gateway.schemas import (
    CustomFieldDefinition,
    Deleted,
    FieldOrder,
    TagInput,
    TagRename,
    body_doc,
)
from shared.internal import Caller

router = APIRouter(prefix="/v2/space", tags=["workspace"], responses=ERRORS)


@router.get("/tag", response_model=list[TagInput], summary="The workspace's tag catalog")
async def list_tags(request: Request, caller: Caller = Depends(authenticated),
                    gateway: Gateway = Depends(get_gateway)) -> Response:
    """Every tag of the workspace."""
    return await forward(request, gateway, caller, service="contacts")


@router.post("/tag", response_model=TagInput, status_code=201,
             openapi_extra=body_doc(TagInput), summary="Create a tag")
async def create_tag(request: Request, caller: Caller = Depends(authenticated),
                     gateway: Gateway = Depends(get_gateway)) -> Response:
    """Add a tag to the catalog (409 if the name exists)."""
    return await forward(request, gateway, caller, service="contacts",
                         body=await read_json(request))


@router.put("/tag", response_model=TagInput, openapi_extra=body_doc(TagRename),
            summary="Rename or restyle a tag")
async def update_tag(request: Request, caller: Caller = Depends(authenticated),
                     gateway: Gateway = Depends(get_gateway)) -> Response:
    """Rename a tag (contacts carrying it follow; 409 if the new name is another tag's) or
    change its colour, emoji, description."""
    return await forward(request, gateway, caller, service="contacts",
                         body=await read_json(request))


@router.delete("/tag", response_model=Deleted, summary="Delete a tag from the catalog",
               openapi_extra=body_doc(TagInput, example={"name": "vip"}))
async def delete_tag(request: Request, caller: Caller = Depends(authenticated),
                     gateway: Gateway = Depends(get_gateway)) -> Response:
    """Delete a tag from the catalog and from every contact carrying it."""
    return await forward(request, gateway, caller, service="contacts",
                         body=await read_json(request))


@router.get("/custom_field", response_model=list[CustomFieldDefinition],
            summary="Custom field definitions")
async def list_custom_fields(request: Request, caller: Caller = Depends(authenticated),
                             gateway: Gateway = Depends(get_gateway)) -> Response:
    """Every custom field definition of the workspace, in details-view order."""
    return await forward(request, gateway, caller, service="contacts")


@router.post("/custom_field", response_model=CustomFieldDefinition, status_code=201,
             openapi_extra=body_doc(CustomFieldDefinition), summary="Define a custom field")
async def create_custom_field(request: Request, caller: Caller = Depends(authenticated),
                              gateway: Gateway = Depends(get_gateway)) -> Response:
    """Add a custom field definition (409 if the name exists)."""
    return await forward(request, gateway, caller, service="contacts",
                         body=await read_json(request))


@router.get("/contact_field_order", response_model=FieldOrder,
            summary="The details-view field order")
async def get_field_order(request: Request, caller: Caller = Depends(authenticated),
                          gateway: Gateway = Depends(get_gateway)) -> Response:
    """Standard and custom fields in the order the contact details view shows them."""
    return await forward(request, gateway, caller, service="contacts")


@router.put("/contact_field_order", response_model=FieldOrder,
            openapi_extra=body_doc(FieldOrder), summary="Set the details-view field order")
async def set_field_order(request: Request, caller: Caller = Depends(authenticated),
                          gateway: Gateway = Depends(get_gateway)) -> Response:
    """Order of standard and custom fields in the contact details view."""
    return await forward(request, gateway, caller, service="contacts",
                         body=await read_json(request))
