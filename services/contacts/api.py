"""Internal HTTP API of the contacts service (called by the gateway only, same paths as /v2).

Each route builds one command from what it received (`api_shapes`: parsed, validated) and
hands it to `Contacts.handle`; the answer is mapped back to the public JSON shape.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from services.contacts.api_shapes import (
    add_tags_command,
    create_command,
    create_custom_field_command,
    create_tag_command,
    delete_tag_command,
    identify,
    list_command,
    remove_tags_command,
    set_field_order_command,
    to_api,
    update_command,
    update_tag_command,
    upsert_command,
)
from services.contacts.handlers import Contacts
from services.contacts.handlers.commands import (
    DeleteContact,
    GetContact,
    GetFieldOrder,
    ListCustomFields,
    ListTags,
    SetBlocked,
)
from shared.internal import Caller, current_caller

router = APIRouter()

ANY_BODY = Body(default=None)


async def contacts_of(request: Request) -> Contacts:
    """The wired handlers, built at start-up (`app.bootstrap`)."""
    contacts: Contacts = request.app.state.contacts
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
    contacts: Contacts = Depends(contacts_of),
) -> dict[str, Any]:
    """A page of contacts, newest first; `cursorId` pages forward, `beforeId` back."""
    page = await contacts.handle(
        list_command(caller, body, limit=limit, after=cursor_id, before=before_id))
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
                 contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Update the contact or create it."""
    return action(await contacts.handle(upsert_command(caller, identifier, body)))


@router.post("/v2/contact/{identifier}")
async def create(identifier: str, body: Any = ANY_BODY,
                 caller: Caller = Depends(current_caller),
                 contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Create a contact; the `email:`/`phone:` identifier sets that field."""
    return action(await contacts.handle(create_command(caller, identifier, body)))


@router.get("/v2/contact/{identifier}")
async def get(identifier: str, caller: Caller = Depends(current_caller),
              contacts: Contacts = Depends(contacts_of)) -> JSONResponse:
    """A contact; `X-Identifier-Matches` says how many contacts the identifier matched."""
    found = await contacts.handle(
        GetContact(caller=caller, identifier=identify(caller, identifier)))
    headers = {"X-Identifier-Matches": str(found.matches)}
    if found.matches > 1:
        headers["X-Identifier-Resolution"] = "oldest"
    return JSONResponse(to_api(found.contact, custom_field_defs=found.custom_fields),
                        headers=headers)


@router.put("/v2/contact/{identifier}")
async def update(identifier: str, body: Any = ANY_BODY,
                 caller: Caller = Depends(current_caller),
                 contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Partial update."""
    return action(await contacts.handle(update_command(caller, identifier, body)))


@router.delete("/v2/contact/{identifier}")
async def delete(identifier: str, caller: Caller = Depends(current_caller),
                 contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Delete for good."""
    command = DeleteContact(caller=caller, identifier=identify(caller, identifier))
    return action(await contacts.handle(command))


@router.post("/v2/contact/{identifier}/tag")
async def add_tags(identifier: str, body: Any = ANY_BODY,
                   caller: Caller = Depends(current_caller),
                   contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Assign tags."""
    return action(await contacts.handle(add_tags_command(caller, identifier, body)))


@router.delete("/v2/contact/{identifier}/tag")
async def remove_tags(identifier: str, body: Any = ANY_BODY,
                      caller: Caller = Depends(current_caller),
                      contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Remove tags."""
    return action(await contacts.handle(remove_tags_command(caller, identifier, body)))


@router.post("/v2/contact/{identifier}/block")
async def block(identifier: str, caller: Caller = Depends(current_caller),
                contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Block."""
    command = SetBlocked(caller=caller, identifier=identify(caller, identifier), blocked=True)
    return action(await contacts.handle(command))


@router.post("/v2/contact/{identifier}/unblock")
async def unblock(identifier: str, caller: Caller = Depends(current_caller),
                  contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Unblock."""
    command = SetBlocked(caller=caller, identifier=identify(caller, identifier), blocked=False)
    return action(await contacts.handle(command))


@router.get("/v2/space/tag")
async def list_tags(caller: Caller = Depends(current_caller),
                    contacts: Contacts = Depends(contacts_of)) -> list[dict[str, Any]]:
    """The tag catalog."""
    return [t.model_dump() for t in await contacts.handle(ListTags(caller=caller))]


@router.post("/v2/space/tag", status_code=201)
async def create_tag(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                     contacts: Contacts = Depends(contacts_of)) -> dict[str, Any]:
    """Add a catalog tag."""
    return (await contacts.handle(create_tag_command(caller, body))).model_dump()


@router.put("/v2/space/tag")
async def update_tag(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                     contacts: Contacts = Depends(contacts_of)) -> dict[str, Any]:
    """Rename or restyle a catalog tag."""
    return (await contacts.handle(update_tag_command(caller, body))).model_dump()


@router.delete("/v2/space/tag")
async def delete_tag(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                     contacts: Contacts = Depends(contacts_of)) -> dict[str, str]:
    """Delete a catalog tag."""
    await contacts.handle(delete_tag_command(caller, body))
    return {"status": "deleted"}


@router.get("/v2/space/custom_field")
async def list_custom_fields(caller: Caller = Depends(current_caller),
                             contacts: Contacts = Depends(contacts_of)
                             ) -> list[dict[str, Any]]:
    """Custom field definitions."""
    return [d.model_dump() for d in await contacts.handle(ListCustomFields(caller=caller))]


@router.post("/v2/space/custom_field", status_code=201)
async def create_custom_field(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                              contacts: Contacts = Depends(contacts_of)) -> dict[str, Any]:
    """Define a custom field."""
    return (await contacts.handle(create_custom_field_command(caller, body))).model_dump()


@router.get("/v2/space/contact_field_order")
async def get_field_order(caller: Caller = Depends(current_caller),
                          contacts: Contacts = Depends(contacts_of)) -> dict[str, Any]:
    """The details-view field order."""
    return {"fields": await contacts.handle(GetFieldOrder(caller=caller))}


@router.put("/v2/space/contact_field_order")
async def set_field_order(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                          contacts: Contacts = Depends(contacts_of)) -> dict[str, Any]:
    """Save the details-view field order."""
    return {"fields": await contacts.handle(set_field_order_command(caller, body))}
