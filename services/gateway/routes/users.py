"""Public ``/v2/space/user`` routes: the workspace's users as respond.io shows them. The
gateway owns users, so these are answered here, not forwarded; every role may read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from services.gateway.auth import Gateway, authenticated
from services.gateway.routing import AUTHORIZATION, ERRORS
from shared.api.pagination import page_links
from shared.api.users import USER_ID_MAX, User, UserList
from shared.errors import ApiError

router = APIRouter(tags=["workspace"])
_ID = Annotated[int, Path(ge=1, le=USER_ID_MAX, description="Integer id, per workspace",
                          examples=[1])]


@router.get("/v2/space/user", response_model=UserList, responses=ERRORS,
            summary="List the workspace's users (cursor pagination)")
async def list_users(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100, description="Users per page", examples=[10])] = 10,
    cursorId: Annotated[int | None, Query(ge=1, le=USER_ID_MAX, examples=[2],
                                          description="Next page: users with ids above this one "
                                          "(not with `beforeId`)"
                                          )] = None,
    beforeId: Annotated[int | None, Query(ge=1, le=USER_ID_MAX, examples=[3],
                                          description="Previous page: users with ids below "
                                          "this one (not with `cursorId`)")] = None,
    authorization: str | None = AUTHORIZATION,
) -> dict[str, Any]:
    """The workspace's users by id; `next` / `previous` are full URLs (null at either end)."""
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway, authorization)
    if cursorId is not None and beforeId is not None:
        raise ApiError(422, f"cursorId: {cursorId} and beforeId: {beforeId} may not be sent "
                       "together")
    store, workspace = gateway.store, caller.workspace_id
    if beforeId is not None:
        rows = await store.users_of(workspace, before=beforeId, limit=limit + 1)
        has_previous, has_next = len(rows) > limit, True
        rows = rows[-limit:]
    else:
        rows = await store.users_of(workspace, after=cursorId or 0, limit=limit + 1)
        has_next, rows = len(rows) > limit, rows[:limit]
        has_previous = bool(rows) and bool(
            await store.users_of(workspace, before=rows[0]["id"], limit=1))
    return {
        "items": rows,
        "pagination": page_links(
            f"{gateway.public_url}/v2/space/user", limit=limit, ids=[r["id"] for r in rows],
            has_next=has_next, has_previous=has_previous,
        ),
    }


@router.get("/v2/space/user/{id}", response_model=User, responses=ERRORS,
            summary="Get a user of the workspace")
async def get_user(request: Request, id: _ID, authorization: str | None = AUTHORIZATION
                   ) -> dict[str, Any]:
    """The user with this id; 404 for a user of no or another workspace."""
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway, authorization)
    user = await gateway.store.user(caller.workspace_id, id)
    if user is None:
        raise ApiError(404, f"id: {id} is not a user of this workspace")
    return user
