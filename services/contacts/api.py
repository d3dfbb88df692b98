"""Internal HTTP API of the contacts service (called by the gateway only, same paths as /v2).

Each route builds one command from what it received (`api_shapes`: parsed, validated) and
hands it to `Contacts.handle`; the answer is mapped back to the public JSON shape.

The POST routes that act on a contact (create, upsert, add tags, block, unblock) take an
`Idempotency-Key` header (`acting`): the key, scoped to the workspace, is stored with the
answer in the command's own unit of work; the same key replays that answer (24 h) without
running anything, the same key with another request is a 422. A refused request (4xx)
stores nothing: it changed nothing, and its retry is evaluated again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from services.contacts.api_shapes import (
    add_tags_command,
    create_command,
    create_custom_field_command,
    create_tag_command,
    custom_field_to_api,
    delete_tag_command,
    identify,
    list_command,
    remove_tags_command,
    set_field_order_command,
    tag_deleted,
    tag_to_api,
    to_api,
    update_command,
    update_tag_command,
    upsert_command,
)
from services.contacts.handlers import Contacts
from services.contacts.handlers.commands import (
    DeleteContact,
    GetContact,
    GetCustomField,
    GetFieldOrder,
    ListCustomFields,
    ListTags,
    Message,
    SetBlocked,
)
from shared.api.contacts import CONTACT_ID_MAX
from shared.api.pagination import page_links
from shared.errors import ApiError
from shared.internal import Caller, current_caller
from shared.unit_of_work import (
    IDEMPOTENCY_HEADER,
    Answer,
    IdempotencyKey,
    IdempotencyKeyReused,
    IdempotentReplay,
    KeyedUnitOfWork,
    check_idempotency_key,
    request_fingerprint,
)

router = APIRouter()

ANY_BODY = Body(default=None)


async def contacts_of(request: Request) -> Contacts:
    """The wired handlers, built at start-up (`app.bootstrap`)."""
    contacts: Contacts = request.app.state.contacts
    return contacts


def action(contact_id: int) -> dict[str, int]:
    """What an action on a contact answers."""
    return {"contactId": contact_id}


#: Header of an answer replayed from an earlier request with the same `Idempotency-Key`.
REPLAYED = "Idempotent-Replayed"


async def acting(request: Request, contacts: Contacts, caller: Caller,
                 command: Callable[[], Message[Any]], *, body: Any,
                 answer: Callable[[Any], Any] = action, status: int = 200) -> JSONResponse:
    """Run the command `command()` builds and answer `answer(result)` (by default
    `{"contactId": N}`) with `status`, once per `Idempotency-Key` when the request has one.

    With a key, a stored answer is replayed before the command is even built (no
    validation against today's state, no id taken); else the command runs with a
    `KeyedUnitOfWork`, so its change, its events and the key's answer commit together.
    """
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return JSONResponse(answer(await contacts.handle(command())), status_code=status)
    try:
        key = IdempotencyKey(
            workspace_id=caller.workspace_id, key=check_idempotency_key(raw),
            fingerprint=request_fingerprint(method=request.method, path=request.url.path,
                                            body=body),
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    try:
        stored = await contacts.deps.uow.recall(key)
        if stored is not None:
            return replayed(stored)
        keyed = KeyedUnitOfWork(contacts.deps.uow, key=key,
                                answer=lambda result: {"status": status, "body": answer(result)})
        result = await Contacts(replace(contacts.deps, uow=keyed)).handle(command())
    except IdempotentReplay as replay:  # a request with the same key committed first
        return replayed(replay.answer)
    except IdempotencyKeyReused as exc:
        raise ApiError(422, f"{exc}; a new request needs a new key") from exc
    return JSONResponse(answer(result), status_code=status)


def replayed(stored: Answer) -> JSONResponse:
    """The stored answer of a key, as it was first given."""
    return JSONResponse(stored["body"], status_code=stored["status"], headers={REPLAYED: "true"})


@router.post("/v2/contact/list")
async def list_contacts(
    body: Any = ANY_BODY,
    limit: int = Query(default=10, ge=1, le=100),
    cursor_id: int | None = Query(default=None, alias="cursorId", ge=1, le=CONTACT_ID_MAX),
    before_id: int | None = Query(default=None, alias="beforeId", ge=1, le=CONTACT_ID_MAX),
    public_url: str = Header(default="", alias="X-Public-Url"),
    caller: Caller = Depends(current_caller),
    contacts: Contacts = Depends(contacts_of),
) -> dict[str, Any]:
    """A page of contacts, newest first; `cursorId` pages forward, `beforeId` back."""
    page = await contacts.handle(
        list_command(caller, body, limit=limit, after=cursor_id, before=before_id))
    items = [to_api(c, custom_field_defs=page.custom_fields) for c in page.contacts]
    return {
        "items": items,
        "pagination": page_links(
            f"{public_url}/v2/contact/list", limit=limit, ids=[c.id for c in page.contacts],
            has_next=page.has_next, has_previous=page.has_previous,
        ),
    }


@router.post("/v2/contact/create_or_update/{identifier}")
async def upsert(request: Request, identifier: str, body: Any = ANY_BODY,
                 caller: Caller = Depends(current_caller),
                 contacts: Contacts = Depends(contacts_of)) -> JSONResponse:
    """Update the contact or create it."""
    return await acting(request, contacts, caller,
                        lambda: upsert_command(caller, identifier, body), body=body)


@router.post("/v2/contact/{identifier}")
async def create(request: Request, identifier: str, body: Any = ANY_BODY,
                 caller: Caller = Depends(current_caller),
                 contacts: Contacts = Depends(contacts_of)) -> JSONResponse:
    """Create a contact; the `email:`/`phone:` identifier sets that field."""
    return await acting(request, contacts, caller,
                        lambda: create_command(caller, identifier, body), body=body)


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
async def add_tags(request: Request, identifier: str, body: Any = ANY_BODY,
                   caller: Caller = Depends(current_caller),
                   contacts: Contacts = Depends(contacts_of)) -> JSONResponse:
    """Assign tags."""
    return await acting(request, contacts, caller,
                        lambda: add_tags_command(caller, identifier, body), body=body)


@router.delete("/v2/contact/{identifier}/tag")
async def remove_tags(identifier: str, body: Any = ANY_BODY,
                      caller: Caller = Depends(current_caller),
                      contacts: Contacts = Depends(contacts_of)) -> dict[str, int]:
    """Remove tags."""
    return action(await contacts.handle(remove_tags_command(caller, identifier, body)))


@router.post("/v2/contact/{identifier}/block")
async def block(request: Request, identifier: str, caller: Caller = Depends(current_caller),
                contacts: Contacts = Depends(contacts_of)) -> JSONResponse:
    """Block."""
    return await acting(request, contacts, caller, lambda: SetBlocked(
        caller=caller, identifier=identify(caller, identifier), blocked=True), body=None)


@router.post("/v2/contact/{identifier}/unblock")
async def unblock(request: Request, identifier: str, caller: Caller = Depends(current_caller),
                  contacts: Contacts = Depends(contacts_of)) -> JSONResponse:
    """Unblock."""
    return await acting(request, contacts, caller, lambda: SetBlocked(
        caller=caller, identifier=identify(caller, identifier), blocked=False), body=None)


@router.get("/v2/space/tag")
async def list_tags(caller: Caller = Depends(current_caller),
                    contacts: Contacts = Depends(contacts_of)) -> list[dict[str, Any]]:
    """The tag catalog."""
    return [tag_to_api(t) for t in await contacts.handle(ListTags(caller=caller))]


@router.post("/v2/space/tag", status_code=201)
async def create_tag(request: Request, body: Any = ANY_BODY,
                     caller: Caller = Depends(current_caller),
                     contacts: Contacts = Depends(contacts_of)) -> JSONResponse:
    """Add a catalog tag (once per `Idempotency-Key`)."""
    return await acting(request, contacts, caller, lambda: create_tag_command(caller, body),
                        body=body, answer=tag_to_api, status=201)


@router.put("/v2/space/tag")
async def update_tag(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                     contacts: Contacts = Depends(contacts_of)) -> dict[str, Any]:
    """Rename or restyle a catalog tag."""
    return tag_to_api(await contacts.handle(update_tag_command(caller, body)))


@router.delete("/v2/space/tag")
async def delete_tag(body: Any = ANY_BODY, caller: Caller = Depends(current_caller),
                     contacts: Contacts = Depends(contacts_of)) -> dict[str, Any]:
    """Delete a catalog tag."""
    command = delete_tag_command(caller, body)
    await contacts.handle(command)
    return tag_deleted(command.name)


@router.get("/v2/space/custom_field")
async def list_custom_fields(
    limit: int = Query(default=10, ge=1, le=100),
    cursor_id: int | None = Query(default=None, alias="cursorId", ge=1, le=CONTACT_ID_MAX),
    before_id: int | None = Query(default=None, alias="beforeId", ge=1, le=CONTACT_ID_MAX),
    public_url: str = Header(default="", alias="X-Public-Url"),
    caller: Caller = Depends(current_caller),
    contacts: Contacts = Depends(contacts_of),
) -> dict[str, Any]:
    """A page of custom field definitions by id; `cursorId` pages forward, `beforeId` back."""
    page = await contacts.handle(
        ListCustomFields(caller=caller, limit=limit, after=cursor_id, before=before_id))
    rows = page.custom_fields
    return {
        "items": [custom_field_to_api(d) for d in rows],
        "pagination": page_links(
            f"{public_url}/v2/space/custom_field", limit=limit, ids=[d.id for d in rows],
            has_next=page.has_next, has_previous=page.has_previous,
        ),
    }


@router.get("/v2/space/custom_field/{custom_field_id}")
async def get_custom_field(
    custom_field_id: int = Path(ge=1, le=CONTACT_ID_MAX),
    caller: Caller = Depends(current_caller),
    contacts: Contacts = Depends(contacts_of),
) -> dict[str, Any]:
    """One custom field definition."""
    found = await contacts.handle(GetCustomField(caller=caller, custom_field_id=custom_field_id))
    return custom_field_to_api(found)


@router.post("/v2/space/custom_field", status_code=201)
async def create_custom_field(request: Request, body: Any = ANY_BODY,
                              caller: Caller = Depends(current_caller),
                              contacts: Contacts = Depends(contacts_of)) -> JSONResponse:
    """Define a custom field (once per `Idempotency-Key`)."""
    return await acting(request, contacts, caller,
                        lambda: create_custom_field_command(caller, body), body=body,
                        answer=custom_field_to_api, status=201)


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
