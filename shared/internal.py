"""The internal HTTP contract between the gateway and the services.

The gateway authenticates the public caller, then calls a service with the
shared internal token and who the caller is, in headers. Services trust those
headers only when the token matches (compared in constant time).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Literal

from fastapi import Header
from pydantic import BaseModel

from shared.errors import ApiError

Role = Literal["owner", "manager", "agent"]

INTERNAL_TOKEN_HEADER = "X-Internal-Token"
WORKSPACE_HEADER = "X-Workspace-Id"
USER_HEADER = "X-User-Id"
ROLE_HEADER = "X-User-Role"
REGION_HEADER = "X-Workspace-Region"


class Caller(BaseModel):
    """Who is calling: a user of a workspace with a role (set by the gateway)."""

    workspace_id: str
    user_id: str
    role: Role
    #: The workspace's default phone region (ISO 3166-1 alpha-2), for national numbers.
    default_region: str | None = None

    def headers(self, internal_token: str) -> dict[str, str]:
        """The headers that carry this caller to a service."""
        headers = {
            INTERNAL_TOKEN_HEADER: internal_token,
            WORKSPACE_HEADER: self.workspace_id,
            USER_HEADER: self.user_id,
            ROLE_HEADER: self.role,
        }
        if self.default_region:
            headers[REGION_HEADER] = self.default_region
        return headers


def require_internal_token(expected: str) -> Callable[[str | None], None]:
    """Dependency factory: refuse any call without the shared internal token."""

    def check(x_internal_token: str | None = Header(default=None, include_in_schema=False)) -> None:
        if x_internal_token is None or not hmac.compare_digest(
            x_internal_token.encode(), expected.encode()
        ):
            raise ApiError(401, "internal API: missing or wrong internal token")

    return check


def current_caller(
    x_workspace_id: str = Header(include_in_schema=False),
    x_user_id: str = Header(include_in_schema=False),
    x_user_role: Role = Header(include_in_schema=False),
    x_workspace_region: str | None = Header(default=None, include_in_schema=False),
) -> Caller:
    """Dependency: the caller the gateway forwarded."""
    return Caller(
        workspace_id=x_workspace_id,
        user_id=x_user_id,
        role=x_user_role,
        default_region=x_workspace_region,
    )
