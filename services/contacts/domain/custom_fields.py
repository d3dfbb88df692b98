"""Custom field definitions of a workspace and validation of contact values against them.

Values are stored under `custom_fields.<name>` with the definition's exact name (names match
case-sensitively). Names may use letters, digits, space, `_` and `-`, so they are safe as
MongoDB keys, and may not reuse a standard field's API name.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from services.contacts.domain.errors import InvalidValue
from services.contacts.domain.fields import (
    check_text,
    normalize_email,
    normalize_phone,
    normalize_url,
)
from shared.api.space import CustomFieldType

TEXT_MAX_CHARS = 10_000
NAME_MAX_CHARS = 100
DESCRIPTION_MAX_CHARS = 500
_NAME = re.compile(r"^[\w \-]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
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
    """One custom field of a workspace: its name, value type and, for lists, its options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: CustomFieldType
    options: list[str] = []
    description: str | None = None

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
                    "options", self.options, f"are only allowed for type list, not {self.type}"
                )
            return self
        if not self.options:
            raise InvalidValue("options: a list field needs at least one option", field="options")
        if len(set(self.options)) != len(self.options):
            raise InvalidValue.for_value("options", self.options, "must be unique")
        if any(not option.strip() for option in self.options):
            raise InvalidValue.for_value("options", self.options, "must not be blank")
        for option in self.options:
            check_text(option, field="options")
        return self


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
