"""The pagination of every cursor-paginated list of the public API (respond.io's shape)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Pagination(BaseModel):
    """Links to the neighbouring pages: full URLs carrying `cursorId` (next) or `beforeId`
    (previous), null at either end."""

    next: str | None = Field(
        default=None, examples=["https://api.example.com/v2/contact/list?limit=10&cursorId=14"]
    )
    previous: str | None = None
