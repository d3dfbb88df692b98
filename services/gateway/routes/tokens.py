"""Public ``/v2/space/token`` routes (our extension; respond.io has none): an owner lists,
issues, rotates and revokes the API tokens of the workspace. The gateway owns tokens, so
these are answered here, not forwarded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.auth import Gateway, authenticated
from services.gateway.routing import AUTHORIZATION, ERRORS
from shared.api.roles import Role
from shared.api.users import USER_ID_MAX
from shared.errors import ApiError
from shared.internal import Caller

router = APIRouter(tags=["tokens"])


class ApiToken(BaseModel):
    """A token of the workspace as it may be shown: never the token, never its hash."""

    id: str = Field(examples=["tok_3f9a0c1d2e4b5a6c"])
    userId: int
    role: Role
    createdAt: int | None = Field(description="Unix time, seconds")


class IssuedToken(ApiToken):
    """A new token: ``token`` is shown in this answer only."""

    token: str = Field(description="`Bearer` credential; store it now, it is not shown again")


class RotatedToken(IssuedToken):
    """A new token and the ids of the user's tokens it replaced (revoked)."""

    revoked: list[str]


class RevokedToken(BaseModel):
    """Answer of a revocation."""

    id: str
    status: str = Field(examples=["revoked"])


class TokenFor(BaseModel):
    """Whose token: a user of the workspace (default: the caller)."""

    model_config = ConfigDict(extra="forbid")
    userId: int | None = Field(default=None, ge=1, le=USER_ID_MAX, strict=True)


_NO_BODY = Body(default=None)


async def _owner(request: Request, authorization: str | None) -> tuple[Gateway, Caller]:
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway, authorization)
    if caller.role != "owner":
        raise ApiError(403, f"role {caller.role!r} may not manage API tokens; it needs: owner")
    return gateway, caller


@router.get("/v2/space/token", response_model=list[ApiToken], responses=ERRORS,
            summary="The workspace's API tokens (owner)")
async def list_tokens(
    request: Request, authorization: str | None = AUTHORIZATION
) -> list[ApiToken]:
    """Every token of the workspace, oldest first, without the tokens themselves."""
    gateway, caller = await _owner(request, authorization)
    return [ApiToken(**t) for t in await gateway.store.tokens_of(caller.workspace_id)]


@router.post("/v2/space/token", response_model=IssuedToken, status_code=201, responses=ERRORS,
             summary="Issue an API token (owner)")
async def issue_token(
    request: Request, body: TokenFor | None = _NO_BODY,
    authorization: str | None = AUTHORIZATION,
) -> IssuedToken:
    """A new token for a user of the workspace (default: the caller); older tokens keep
    working (revoke them once the new one is in place). The token is shown once."""
    gateway, caller = await _owner(request, authorization)
    user_id = (body.userId if body else None) or int(caller.user_id)
    issued = await gateway.store.issue_token(workspace_id=caller.workspace_id, user_id=user_id)
    if issued is None:
        raise ApiError(422, f"userId: {user_id} is not a user of this workspace")
    return IssuedToken(**issued)


@router.post("/v2/space/token/rotate", response_model=RotatedToken, status_code=201,
             responses=ERRORS, summary="Rotate a user's API token (owner)")
async def rotate_token(
    request: Request, body: TokenFor | None = _NO_BODY,
    authorization: str | None = AUTHORIZATION,
) -> RotatedToken:
    """A new token for a user of the workspace (default: the caller), shown once; every
    older token of that user is revoked (refused by this gateway process at once, by the
    others within ``GATEWAY_TOKEN_CACHE_S``, 10 s by default)."""
    gateway, caller = await _owner(request, authorization)
    user_id = (body.userId if body else None) or int(caller.user_id)
    rotated = await gateway.store.rotate_token(workspace_id=caller.workspace_id,
                                               user_id=user_id)
    if rotated is None:
        raise ApiError(422, f"userId: {user_id} is not a user of this workspace")
    issued, revoked = rotated
    for digest in revoked:
        gateway.forget(digest)
    return RotatedToken(**issued, revoked=sorted(revoked.values()))


@router.delete("/v2/space/token/{tokenId}", response_model=RevokedToken, responses=ERRORS,
               summary="Revoke an API token (owner)")
async def revoke_token(
    request: Request,
    tokenId: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                 examples=["tok_3f9a0c1d2e4b5a6c"])],
    authorization: str | None = AUTHORIZATION,
) -> RevokedToken:
    """Revoke one token of the workspace (refused by this gateway process at once, by the
    others within ``GATEWAY_TOKEN_CACHE_S``); 404 for a token of no or another workspace."""
    gateway, caller = await _owner(request, authorization)
    digest = await gateway.store.revoke_token(workspace_id=caller.workspace_id,
                                              token_id=tokenId)
    if digest is None:
        raise ApiError(404, f"tokenId: {tokenId!r} is not a token of this workspace")
    gateway.forget(digest)
    return RevokedToken(id=tokenId, status="revoked")
