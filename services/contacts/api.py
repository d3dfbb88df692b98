"""Internal HTTP API of the contacts service (called by the gateway only, same paths as /v2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from services.contacts.domain.contact import to_api
from services.contacts.handlers import ContactsService
from shared.internal import Caller, current_caller

router = APIRouter()

ANY_BODY = Body(default=None)


def service(request: Request) -> ContactsService:
    """The use cases, built at start-up."""
    contacts: ContactsService = request.app.state.runtime.deps["contacts"]
    return contacts


def action(contact_id: int) -> dict[str, int]:
    """What an action on a contact answers."""
    return {"contactId": contact_id}


@router.post("/v2/contact/list")
async def list_contacts(
    body: Any = ANY_BODY,
    limit: int = Query(default=10, ge=1, le=100),
    cursor_id: int | None = Query(default=None, alias="cursorId", ge=1),
    before_id: int | None = Query(default=None, alias="beforeId", ge=1),
    public_url: str = Header(default="", alias="X-Public-Url"),
    caller: Caller = Depends(current_caller),
    contacts: ContactsService = Depends(service),
) -> dict[str, Any]:
    """A page of contacts, newest first; `cursorId` pages forward, `beforeId` back."""
    page = await contacts.list_contacts(caller, body if body is not None else {}, limit=limit,
                               after=cursor_id, before=before_id)
    base = f"{public_url}/v2/contact/list?"
    items = [to_api(c, custom_field_defs=page.custom_fields) for c in page.contacts]
    return {
        "items": items,
        "pagination": {
            "next": base + urlencode({"limit": limit, "cursorId": page.contacts[-1].id})
            if page.has_next and page.contacts else None,
            "previous": base + urlencode({"limit": limit, "beforeId": page.contacts[0].id})
            if page.has_previous and page.contacts else None,
        },
    }


@router.post("/v2/contact/create_or_update/{identifier}")
async def upsert(identifier: str, body: Any = ANY_BODY,
                 caller: Caller = Depends(current_caller),
                 contacts: ContactsService = Depends(service)) -> dict[str, int]:
    """Update the contact or create it."""
    return action(await contacts.upsert(caller, identifier, body))


@router.post("/v2/contact/{identifier}")
async def create(identifier: str, body: Any = ANY_BODY,
                 caller: Caller = Depends(current_caller),
                 contacts: ContactsService = Depends(service)) -> dict[str, int]:
    """Create a contact."""
    return action(await contacts.create(caller, identifier, body))


@router.get("/v2/contact/{identifier}")
async def get(identifier: str, caller: Caller = Depends(current_caller),
              contacts: ContactsService = Depends(service)) -> JSONResponse:
    """A contact; `X-Identifier-Matches` says how many contacts the identifier matched."""
    found = await contacts.get(caller, identifier)
    headers = {"X-Identifier-Matches": str(found.matches)}
    if found.matches > 1:
        headers["X-Identifier-Resolution"] = "oldest"
    return JSONResponse(to_api(found.contact, custom_field_defs=found.custom_fields),
                        headers=headers)


@router.put("/v2/contact/{identifier}")
async def update(identifier: str, body: Any = ANY_BODY,
                 caller: Caller = Depends(current_caller),
                 contacts: ContactsService = Depends(service)) -> dict[str, int]:
    """Partial update."""
    return action(await contacts.update(caller, identifier, body))


@router.delete("/v2/contact/{identifier}")
async def delete(identifier: str, caller: Caller = Depends(current_caller),
                 contacts: ContactsService = Depends(service)) -> dict[str, int]:
    """Delete for good."""
    return action(await contacts.delete(caller, identifier))


@router.post("/v2/contact/{identifier}/tag")
async def add_tags(identifier: str, body: Any = ANY_BODY,
                   caller: Caller = Depends(current_caller),
                   contacts: ContactsService = Depends(service)) -> dict[str, int]:
    """Assign tags."""
    return action(await contacts.add_tags(caller, identifier, body))


@router.delete("/v2/contact/{identifier}/tag")
async def remove_tags(identifier: str, body: Any = ANY_BODY,
                      caller: Caller = Depends(current_caller),
                      contacts: ContactsService = Depends(service)) -> dict[str, int]:
    """Remove tags."""
    return action(await contacts.remove_tags(caller, identifier, body))


@router.post("/v2/contact/{identifier}/block")
async def block(identifier: str, caller: Caller = Depends(current_caller),
                contacts: ContactsService = Depends(service)) -> dict[str, int]:
    """Block."""
    return action(await contacts.set_blocked(caller, identifier, blocked=True))


@router.post("/v2/contact/{identifier}/unblock")
async def unblock(identifier: str, caller: Caller = Depends(current_caller),
                  contacts: ContactsService = Depends(service)) -> dict[str, int]:
    """Unblock."""
    return action(await contacts.set_blocked(caller, identifier, blocked=False))


@router.get("/v2/space/tag")
async def list_tags(caller: Caller = Depends(current_caller),
                    contacts: ContactsService = Depends(service)) -> list[dict[str, Any]]:
    """The tag catalog."""
    return [t.model_dump() for t in await contacts.tags(caller)]


@router.post("/v2/space/tag", status_code=201)
async def create_tag(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                     contacts: ContactsService = Depends(service)) -> dict[str, Any]:
    """Add a catalog tag."""
    return (await contacts.create_tag(caller, body)).model_dump()


@router.put("/v2/space/tag")
async def update_tag(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                     contacts: ContactsService = Depends(service)) -> dict[str, Any]:
    """Rename or restyle a catalog tag."""
    return (await contacts.update_tag(caller, body)).model_dump()


@router.delete("/v2/space/tag")
async def delete_tag(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                     contacts: ContactsService = Depends(service)) -> dict[str, str]:
    """Delete a catalog tag."""
    await contacts.delete_tag(caller, body)
    return {"status": "deleted"}


@router.get("/v2/space/custom_field")
async def list_custom_fields(caller: Caller = Depends(current_caller),
                             contacts: ContactsService = Depends(service)
                             ) -> list[dict[str, Any]]:
    """Custom field definitions."""
    return [d.model_dump() for d in await contacts.custom_fields(caller)]


@router.post("/v2/space/custom_field", status_code=201)
async def create_custom_field(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                              contacts: ContactsService = Depends(service)) -> dict[str, Any]:
    """Define a custom field."""
    return (await contacts.create_custom_field(caller, body)).model_dump()


@router.get("/v2/space/contact_field_order")
async def get_field_order(caller: Caller = Depends(current_caller),
                          contacts: ContactsService = Depends(service)) -> dict[str, Any]:
    """The details-view field order."""
    return {"fields": await contacts.field_order(caller)}


@router.put("/v2/space/contact_field_order")
async def set_field_order(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                          contacts: ContactsService = Depends(service)) -> dict[str, Any]:
    """Save the details-view field order."""
    return {"fields": await contacts.set_field_order(caller, body)}
