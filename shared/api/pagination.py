"""The pagination of every cursor-paginated list of the public API (respond.io's shape)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from pydantic import BaseModel, Field


class Pagination(BaseModel):
    """Links to the neighbouring pages: full URLs carrying `cursorId` (next) or `beforeId`
    (previous), null at either end."""

    next: str | None = Field(
        default=None, examples=["https://api.example.com/v2/contact/list?limit=10&cursorId=14"]
    )
    previous: str | None = None


def page_links(
    url: str, *, limit: int, ids: Sequence[int], has_next: bool, has_previous: bool
) -> dict[str, str | None]:
    """The `pagination` of a page whose items have `ids` (in page order), served at `url`."""
    base = f"{url}?"
    return {
        "next": base + urlencode({"limit": limit, "cursorId": ids[-1]})
        if ids and has_next else None,
        "previous": base + urlencode({"limit": limit, "beforeId": ids[0]})
        if ids and has_previous else None,
    }
