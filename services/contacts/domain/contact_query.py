"""Which contacts a list asks for, in the domain's words: a typed query object.

`listing.build_contact_query` builds one from a validated list request, with every value
already normalised like the stored ones (emails lower-cased, phones E.164, tags by key,
timestamps as UTC datetimes, custom values in their stored form). Repositories answer it:
`store.py` translates it into a MongoDB filter, the in-memory fake of the tests evaluates
it directly. What each test means:

- `equals` / `one_of`: the field has the value (one of the values). Numbers compare as
  numbers (41 equals 41.0), never with text or true/false.
- `not_equals` / `none_of`: the negation, so a contact without the field matches too.
- `greater` / `less`: within one kind of value (numbers, texts, moments); an empty field
  or a value of another kind never matches.
- `is_set`: present and neither null nor ""; `is_empty`: the opposite.
- `contains`: a text field contains the value, ignoring case; `contains_digits`: the
  phone contains the digits as written.
- On `lifecycle` (the stage's name, exact): `equals`, `not_equals`, `one_of`, `none_of`,
  `is_set`, `is_empty`, as on any field.
- On `tags` (the contact's tags by key): `one_of`, `all_of`, `none_of`, `is_set` (at least
  one tag), `is_empty` (none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

#: How a condition tests its field.
Test = Literal[
    "equals", "not_equals", "one_of", "none_of", "all_of", "greater", "less", "is_set",
    "is_empty", "contains", "contains_digits",
]  # fmt: skip
#: A value a condition compares with, normalised like stored values.
Value = str | int | float | bool | datetime

#: Contact attributes a condition may test (besides custom fields); `tags` tests tag keys.
STANDARD_ATTRIBUTES = (
    "id", "first_name", "last_name", "email_key", "phone", "country_code", "language",
    "assignee", "status", "lifecycle", "created_at", "tags",
)  # fmt: skip


@dataclass(frozen=True)
class FieldRef:
    """A field of a contact: a standard attribute, or a custom field by its exact name."""

    name: str
    custom: bool = False


@dataclass(frozen=True)
class Condition:
    """One test of one field; `value` is a single value, a tuple for the set tests, or None."""

    field: FieldRef
    test: Test
    value: Value | tuple[Value, ...] | None = None


@dataclass(frozen=True)
class Group:
    """Conditions (or groups) that must all hold (`all`) or of which one must (`any`)."""

    combinator: Literal["all", "any"]
    items: tuple[Condition | Group, ...]


Criterion = Condition | Group


@dataclass(frozen=True)
class ContactQuery:
    """Contacts of one workspace matching a filter and a search (both optional)."""

    workspace_id: str
    #: False: unblocked contacts only; True: blocked ones only; None: everyone.
    blocked: bool | None = None
    filter: Criterion | None = None
    search: Criterion | None = None
