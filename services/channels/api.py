"""Internal HTTP API of the channels service (called by the gateway only, same paths as the
public ones): the workspace's channels and the webhook intake.

Each route builds one command (`api_shapes`) and hands it to `Channels.handle`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from services.channels.api_shapes import (
    WEBHOOK_ANSWER_HEADER,
    connect_command,
    connected_to_api,
    message_to_api,
    to_api,
    webhook_command,
)
from services.channels.domain.errors import DomainError
from services.channels.handlers import Channels
from services.channels.handlers.commands import (
    DeleteChannel,
    GetMessage,
    ListChannels,
    ListMessages,
)
from services.channels.inbound import BrokerUnavailable
from shared.api.contacts import CONTACT_ID_MAX
from shared.api.pagination import page_links
from shared.errors import ApiError, error_response
from shared.internal import Caller, ResolvedContact, current_caller, resolved_contact

router = APIRouter()
MESSAGE_ID_MAX = 2**63 - 1
PUBLIC_URL = Header(default="", alias="X-Public-Url")


async def channels_of(request: Request) -> Channels:
    """The wired handlers, built at start-up (`app.bootstrap`)."""
    channels: Channels = request.app.state.channels
    return channels


@router.get("/v2/space/channel")
async def list_channels(
    limit: int = Query(default=10, ge=1, le=100),
    cursor_id: int | None = Query(default=None, alias="cursorId", ge=1, le=CONTACT_ID_MAX),
    before_id: int | None = Query(default=None, alias="beforeId", ge=1, le=CONTACT_ID_MAX),
    public_url: str = PUBLIC_URL,
    caller: Caller = Depends(current_caller),
    channels: Channels = Depends(channels_of),
) -> dict[str, Any]:
    """A page of the workspace's channels by id; `cursorId` pages forward, `beforeId` back."""
    if cursor_id is not None and before_id is not None:
        raise ApiError(422, f"cursorId: {cursor_id} and beforeId: {before_id} may not be "
                       "sent together")
    page = await channels.handle(ListChannels(caller=caller, limit=limit, after=cursor_id,
                                              before=before_id))
    return {
        "items": [to_api(c, public_url=public_url) for c in page.channels],
        "pagination": page_links(f"{public_url}/v2/space/channel", limit=limit,
                                 ids=[c.id for c in page.channels], has_next=page.has_next,
                                 has_previous=page.has_previous),
    }


@router.post("/v2/space/channel", status_code=201)
async def connect_channel(
    body: Any = Body(default=None),
    public_url: str = PUBLIC_URL,
    caller: Caller = Depends(current_caller),
    channels: Channels = Depends(channels_of),
) -> dict[str, Any]:
    """Connect a channel (owners, managers); a custom channel's `apiToken` is answered once."""
    connected = await channels.handle(connect_command(caller, body))
    return connected_to_api(connected, public_url=public_url)


@router.delete("/v2/space/channel/{channel_id}")
async def delete_channel(
    channel_id: int,
    caller: Caller = Depends(current_caller),
    channels: Channels = Depends(channels_of),
) -> dict[str, Any]:
    """Delete a channel (owners, managers): respond.io's `{code, message}`."""
    deleted = await channels.handle(DeleteChannel(caller=caller, channel_id=channel_id))
    return {"code": 200, "message": f"channel {deleted} deleted"}


@router.get("/v2/contact/{identifier}/message/list")
async def list_messages(
    identifier: str,
    limit: int = Query(default=10, ge=1, le=100),
    cursor_id: int | None = Query(default=None, alias="cursorId", ge=1, le=MESSAGE_ID_MAX),
    before_id: int | None = Query(default=None, alias="beforeId", ge=1, le=MESSAGE_ID_MAX),
    public_url: str = PUBLIC_URL,
    caller: Caller = Depends(current_caller),
    contact: ResolvedContact = Depends(resolved_contact),
    channels: Channels = Depends(channels_of),
) -> dict[str, Any]:
    """The contact's messages across its channels, newest first (`cursorId`: older ones)."""
    if cursor_id is not None and before_id is not None:
        raise ApiError(422, f"cursorId: {cursor_id} and beforeId: {before_id} may not be "
                       "sent together")
    page = await channels.handle(ListMessages(caller=caller, contact_id=contact.id,
                                              limit=limit, after=cursor_id, before=before_id))
    return {
        "items": [message_to_api(m, contact_id=contact.id) for m in page.messages],
        "pagination": page_links(f"{public_url}/v2/contact/id:{contact.id}/message/list",
                                 limit=limit, ids=[m.id for m in page.messages],
                                 has_next=page.has_next, has_previous=page.has_previous),
    }


@router.get("/v2/contact/{identifier}/message/{message_id}")
async def get_message(
    identifier: str,
    message_id: int = Path(ge=1, le=MESSAGE_ID_MAX),
    caller: Caller = Depends(current_caller),
    contact: ResolvedContact = Depends(resolved_contact),
    channels: Channels = Depends(channels_of),
) -> dict[str, Any]:
    """One message of the contact by its `messageId`."""
    message = await channels.handle(GetMessage(caller=caller, contact_id=contact.id,
                                               message_id=message_id))
    return message_to_api(message, contact_id=contact.id)


@router.api_route("/webhooks/{path}/{key}", methods=["GET", "POST"])
async def webhook(
    request: Request, path: str, key: str,
    url: str = Header(default="", alias="X-Webhook-Url"),
    channels: Channels = Depends(channels_of),
) -> Response:
    """A provider's webhook forwarded by the gateway: verified, published, answered."""
    marked = {WEBHOOK_ANSWER_HEADER: "1"}
    command = webhook_command(path=path, key=key, method=request.method, url=url,
                              headers=request.headers, query=request.url.query,
                              body=await request.body())
    try:
        answer = await channels.handle(command)
    except DomainError as exc:
        return error_response(exc.status, exc.message, marked)
    except BrokerUnavailable as exc:
        return error_response(503, f"webhook: not accepted, retry later ({exc})",
                              {**marked, "Retry-After": "1"})
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type,
                    headers=marked)
