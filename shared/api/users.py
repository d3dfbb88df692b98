"""Shapes of the public ``/v2/space/user`` API and of a contact's ``assignee`` (respond.io's
user objects; the gateway owns users)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from shared.api.pagination import Pagination
from shared.api.roles import Role

#: The largest user id (64-bit integers, like contact ids).
USER_ID_MAX = 2**63 - 1

#: An assignee as a create / update / upsert sets it: a user id of the workspace or a user's
#: email (any case); null unassigns.
AssigneeRef = (
    Annotated[int, Field(ge=1, le=USER_ID_MAX, examples=[2])]
    | Annotated[str, StringConstraints(min_length=3, max_length=254, pattern=r"@")]
)


class Assignee(BaseModel):
    """The user a contact is assigned to, as a contact shows it."""

    id: int = Field(examples=[2])
    firstName: str | None = Field(default=None, examples=["Max"])
    lastName: str | None = Field(default=None, examples=["Manager"])
    email: str | None = Field(default=None, examples=["manager@acme.example"])


class User(Assignee):
    """A user of the workspace (``team``: none yet; ``restrictions``: none yet)."""

    role: Role
    team: dict[str, object] | None = None
    restrictions: list[str] = Field(default_factory=list)


class UserList(BaseModel):
    """A page of users, by id."""

    items: list[User]
    pagination: Pagination
