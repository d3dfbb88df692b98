"""Custom field definitions of a workspace and validation of contact values against them.

Values are stored under `custom_fields.<name>` with the definition's exact name (names match
case-sensitively). Names may use letters, digits, space, `_` and `-`, so they are safe as
MongoDB keys, and may not reuse a standard field's API name.

Definitions are shaped as respond.io's (`id`, `name`, `slug`, `description`, `dataType`,
`allowedValues`; API names by alias): the id is an integer per workspace, the slug a
machine name unique in the workspace — given (letters, digits, `_`; lower-cased) or derived
from the name (lower-cased, spaces and `-` as `_`). Types are respond.io's (text, list,
checkbox, email, number, url, date, time) and `phone`. A `time` value is a time of day
written `HH:MM` or `HH:MM:SS` (24-hour, ASCII digits), stored as `HH:MM` when its seconds
are zero, so stored times compare correctly as text.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.contacts.domain.errors import Conflict, InvalidValue, show
from services.contacts.domain.fields import (
    check_text,
    normalize_email,
    normalize_phone,
    normalize_url,
)
from shared.api.space import (
    CUSTOM_FIELD_DESCRIPTION_MAX_CHARS,
    CUSTOM_FIELD_NAME_MAX_CHARS,
    CUSTOM_FIELD_SLUG_MAX_CHARS,
    CustomFieldType,
)

TEXT_MAX_CHARS = 10_000
NAME_MAX_CHARS = CUSTOM_FIELD_NAME_MAX_CHARS
DESCRIPTION_MAX_CHARS = CUSTOM_FIELD_DESCRIPTION_MAX_CHARS
_NAME = re.compile(r"^[\w \-]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$", re.ASCII)
_SLUG = re.compile(r"^\w+$")
SLUG_MAX_CHARS = CUSTOM_FIELD_SLUG_MAX_CHARS
#: Integers a number field holds: those every JSON reader (JavaScript's too) reads exactly.
#: Beyond, a number is a 64-bit float: send it with a decimal point or an exponent.
NUMBER_INTEGER_MAX = 2**53 - 1
RESERVED_NAMES = frozenset(
    name.casefold()
    for name in (
        "id", "firstName", "lastName", "phone", "email", "language", "profilePic", "countryCode",
        "status", "tags", "assignee", "custom_fields", "created_at", "blocked", "lifecycle",
    )
)  # fmt: skip


class CustomFieldDefinition(BaseModel):
    """One custom field of a workspace: its id, name, slug, value type and, for lists, its
    options (API names by alias: `dataType`, `allowedValues`)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    #: Integer per workspace; 0 until the catalog stores the definition.
    id: int = 0
    name: str
    #: Set from the name when not given.
    slug: str = ""
    type: CustomFieldType = Field(alias="dataType")
    options: list[str] = Field(default=[], alias="allowedValues")
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive_slug(cls, data: Any) -> Any:
        # No slug (absent, null, ""): the name's, lower-cased, spaces and "-" as "_" (a name
        # is letters, digits, " ", "_", "-": its slug is a valid one).
        if isinstance(data, dict) and not data.get("slug") and isinstance(data.get("name"), str):
            data = {**data, "slug": re.sub(r"[ \-]", "_", data["name"].strip().lower())}
        return data

    @field_validator("description", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("options", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("slug")
    @classmethod
    def _check_slug(cls, slug: str) -> str:
        if not (len(slug) <= SLUG_MAX_CHARS and _SLUG.match(slug)):
            raise InvalidValue.for_value(
                "slug", slug, f"must be 1-{SLUG_MAX_CHARS} letters, digits or '_'"
            )
        return slug.lower()

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        stripped = name.strip()
        if not 1 <= len(stripped) <= NAME_MAX_CHARS or not _NAME.match(stripped):
            raise InvalidValue.for_value(
                "name", name, "must be 1-100 letters, digits, spaces, '_' or '-'"
            )
        if stripped.casefold() in RESERVED_NAMES:
            raise InvalidValue.for_value("name", name, "is the name of a standard field")
        return stripped

    @field_validator("description")
    @classmethod
    def _check_description(cls, description: str | None) -> str | None:
        if description is not None and len(description) > DESCRIPTION_MAX_CHARS:
            raise InvalidValue.for_value(
                "description", description, f"is longer than {DESCRIPTION_MAX_CHARS} characters"
            )
        if description is not None:
            check_text(description, field="description", multiline=True)
        return description

    @model_validator(mode="after")
    def _check_options(self) -> CustomFieldDefinition:
        if self.type != "list":
            if self.options:
                raise InvalidValue.for_value(
                    "allowedValues", self.options,
                    f"are only allowed for dataType list, not {self.type}",
                )
            return self
        if not self.options:
            raise InvalidValue(
                "allowedValues: a list field needs at least one value", field="allowedValues"
            )
        if len(set(self.options)) != len(self.options):
            raise InvalidValue.for_value("allowedValues", self.options, "must be unique")
        if any(not option.strip() for option in self.options):
            raise InvalidValue.for_value("allowedValues", self.options, "must not be blank")
        for option in self.options:
            check_text(option, field="allowedValues")
        return self


def ensure_custom_field_free(
    defs: list[CustomFieldDefinition], defn: CustomFieldDefinition
) -> None:
    """A new definition's name and slug must not be another field's (409)."""
    for other in defs:
        if other.name == defn.name:
            raise Conflict.for_value("name", defn.name, "is already a custom field")
        if other.slug == defn.slug:
            raise Conflict.for_value(
                "slug", defn.slug, f"is already the slug of custom field {show(other.name)}"
            )


def page_of_fields(
    defs: list[CustomFieldDefinition], *, limit: int, after: int | None, before: int | None
) -> tuple[list[CustomFieldDefinition], bool, bool]:
    """One page of definitions by id (creation order): those after the id `after` (the next
    page), or before the id `before` (the previous one); with whether pages lie beyond it on
    each side (next, previous)."""
    ordered = sorted(defs, key=lambda d: d.id)
    ids = [d.id for d in ordered]
    if after is not None:
        start = bisect_right(ids, after)
        end = start + limit
    elif before is not None:
        end = bisect_left(ids, before)
        start = max(0, end - limit)
    else:
        start, end = 0, limit
    rows = ordered[start:end]
    return rows, bool(rows) and end < len(ordered), bool(rows) and start > 0


def validate_custom_value(
    defn: CustomFieldDefinition, value: Any, *, default_region: str | None
) -> Any:
    """Check `value` against the definition and return its stored form (None clears)."""
    if value is None:
        return None
    field = f"custom_fields.{defn.name}"
    match defn.type:
        case "text":
            if not isinstance(value, str) or len(value) > TEXT_MAX_CHARS:
                raise InvalidValue.for_value(
                    field, value, f"is not a text of at most {TEXT_MAX_CHARS} characters"
                )
            return check_text(value, field=field, multiline=True)
        case "number":
            return _number(value, field=field)
        case "date":
            return _iso_date(value, field=field)
        case "time":
            return time_of_day(value, field=field)
        case "list":
            if not isinstance(value, str) or value not in defn.options:
                raise InvalidValue.for_value(field, value, f"is not one of {defn.options}")
            return value
        case "checkbox":
            if not isinstance(value, bool):
                raise InvalidValue.for_value(field, value, "is not true or false")
            return value
        case "email":
            return normalize_email(value, field=field)
        case "phone":
            return normalize_phone(value, default_region=default_region, field=field)
        case "url":
            return normalize_url(value, field=field)
    raise AssertionError(f"unhandled custom field type {defn.type}")  # pragma: no cover


def _number(value: Any, *, field: str) -> int | float:
    """Accept an int or float (not bool) or a numeric string of ASCII digits; refuse NaN,
    infinities and integers beyond ±NUMBER_INTEGER_MAX."""
    number: int | float
    if isinstance(value, bool):
        raise InvalidValue.for_value(field, value, "is not a number")
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        number = number_of_text(value, field=field)
    else:
        raise InvalidValue.for_value(field, value, "is not a number")
    return bounded_number(number, field=field, value=value)


def number_of_text(value: str, *, field: str) -> int | float:
    """The number a text writes in ASCII digits (``int()`` would read ``"１"`` or ``"1_0"``)."""
    text = value.strip()
    if not text.isascii() or "_" in text:
        raise InvalidValue.for_value(field, value, "is not a number")
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise InvalidValue.for_value(field, value, "is not a number") from None


def bounded_number(number: int | float, *, field: str, value: object) -> int | float:
    """``number`` when a number field may hold it: a finite float, or an integer within
    ±NUMBER_INTEGER_MAX; else the 422 naming ``field`` and the ``value`` sent."""
    if isinstance(number, float) and not math.isfinite(number):
        raise InvalidValue.for_value(field, value, "is not a finite number")
    if isinstance(number, int) and abs(number) > NUMBER_INTEGER_MAX:
        raise InvalidValue.for_value(
            field, value, f"is an integer beyond ±{NUMBER_INTEGER_MAX} (2^53 - 1); send a "
            "larger number with a decimal point or an exponent (a 64-bit float)"
        )
    return number


def time_of_day(value: Any, *, field: str) -> str:
    """A time of day written `HH:MM` or `HH:MM:SS` (24-hour), stored as `HH:MM` when its
    seconds are zero (so stored times compare correctly as text)."""
    found = _TIME.match(value) if isinstance(value, str) else None
    if found is None:
        raise InvalidValue.for_value(field, value, "is not a time of day written HH:MM[:SS]")
    hours, minutes, seconds = found.groups()
    return f"{hours}:{minutes}" if seconds in (None, "00") else f"{hours}:{minutes}:{seconds}"


def _iso_date(value: Any, *, field: str) -> str:
    """Accept a calendar date written `YYYY-MM-DD` and return it unchanged."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise InvalidValue.for_value(field, value, "is not a date written YYYY-MM-DD")
