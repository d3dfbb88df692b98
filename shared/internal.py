"""The internal HTTP contract between the gateway and the services.

The gateway authenticates the public caller, then calls a service with the
shared internal token and who the caller is, in headers. Services trust those
headers only when the token matches (compared in constant time).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import quote, unquote

from fastapi import Header
from pydantic import BaseModel

from shared.api.roles import Role
from shared.errors import ApiError

INTERNAL_TOKEN_HEADER = "X-Internal-Token"
WORKSPACE_HEADER = "X-Workspace-Id"
USER_HEADER = "X-User-Id"
ROLE_HEADER = "X-User-Role"
REGION_HEADER = "X-Workspace-Region"
#: Set by the gateway on a route another service owns, once contacts resolved the identifier.
CONTACT_ID_HEADER = "X-Contact-Id"
CONTACT_PHONE_HEADER = "X-Contact-Phone"
CONTACT_EMAIL_HEADER = "X-Contact-Email"


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


class ResolvedContact(BaseModel):
    """The contact a public identifier (``id:``, ``email:``, ``phone:``) named, as the gateway
    resolved it through the contacts service for a route another service owns."""

    id: int
    phone: str | None = None
    email: str | None = None

    def headers(self) -> dict[str, str]:
        """The headers that carry this contact to the owning service (values %-encoded)."""
        headers = {CONTACT_ID_HEADER: str(self.id)}
        if self.phone:
            headers[CONTACT_PHONE_HEADER] = quote(self.phone, safe="+")
        if self.email:
            headers[CONTACT_EMAIL_HEADER] = quote(self.email, safe="@+")
        return headers


async def resolved_contact(
    x_contact_id: int = Header(include_in_schema=False),
    x_contact_phone: str | None = Header(default=None, include_in_schema=False),
    x_contact_email: str | None = Header(default=None, include_in_schema=False),
) -> ResolvedContact:
    """Dependency of a service's route behind a resolving gateway route: the contact."""
    return ResolvedContact(
        id=x_contact_id,
        phone=unquote(x_contact_phone) if x_contact_phone else None,
        email=unquote(x_contact_email) if x_contact_email else None,
    )


def require_internal_token(expected: str) -> Callable[[str | None], Awaitable[None]]:
    """Dependency factory: refuse any call without the shared internal token."""

    # async: a plain ``def`` dependency runs in the thread pool, a thread hop per request.
    async def check(
        x_internal_token: str | None = Header(default=None, include_in_schema=False),
    ) -> None:
        if x_internal_token is None or not hmac.compare_digest(
            x_internal_token.encode(), expected.encode()
        ):
            raise ApiError(401, "internal API: missing or wrong internal token")

    return check


async def current_caller(
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
