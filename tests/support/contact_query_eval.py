"""A contact query (`domain.contact_query`) evaluated on one contact, for the in-memory fake.

The meaning of each test is the one `contact_query`'s docstring states and `store.py`'s
MongoDB filter has; the repository contract suite runs both on the same cases.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from services.contacts.domain.contact import Contact
from services.contacts.domain.contact_query import Condition, ContactQuery, Criterion, Group
from services.contacts.domain.tags import tag_key

_MISSING = object()
#: Values compare only within one kind, as MongoDB compares within a type bracket.
_KINDS: tuple[tuple[type, ...], ...] = ((int, float), (str,), (datetime,), (bool,))


def contact_matches(contact: Contact, query: ContactQuery) -> bool:
    """Whether `contact` is one of the contacts `query` asks for."""
    if contact.workspace_id != query.workspace_id:
        return False
    if query.blocked is not None and contact.blocked != query.blocked:
        return False
    return all(_holds(contact, c) for c in (query.filter, query.search) if c is not None)


def _holds(contact: Contact, criterion: Criterion) -> bool:
    if isinstance(criterion, Group):
        results = (_holds(contact, item) for item in criterion.items)
        return all(results) if criterion.combinator == "all" else any(results)
    if criterion.field.name == "tags" and not criterion.field.custom:
        return _tags_hold({tag_key(t) for t in contact.tags}, criterion)
    field = criterion.field
    value = (
        contact.custom_fields.get(field.name, _MISSING) if field.custom
        else getattr(contact, field.name)
    )
    return _value_holds(value, criterion)


def _tags_hold(keys: set[str], condition: Condition) -> bool:
    wanted = set(condition.value) if isinstance(condition.value, tuple) else set()
    match condition.test:
        case "is_set":
            return bool(keys)
        case "is_empty":
            return not keys
        case "one_of":
            return bool(keys & wanted)
        case "all_of":
            return wanted <= keys
        case "none_of":
            return not keys & wanted
    raise AssertionError(f"tags: unhandled test {condition.test}")


def _value_holds(value: Any, condition: Condition) -> bool:
    wanted = condition.value
    match condition.test:
        case "is_set":
            return value is not _MISSING and value is not None and value != ""
        case "is_empty":
            return value is _MISSING or value is None or value == ""
        case "equals":
            return _equal(value, wanted)
        case "not_equals":
            return not _equal(value, wanted)
        case "one_of":
            assert isinstance(wanted, tuple)
            return any(_equal(value, item) for item in wanted)
        case "none_of":
            assert isinstance(wanted, tuple)
            return not any(_equal(value, item) for item in wanted)
        case "greater" | "less":
            if _kind(value) is None or _kind(value) != _kind(wanted):
                return False
            return bool(value > wanted if condition.test == "greater" else value < wanted)
        case "contains":
            return isinstance(value, str) and bool(
                re.search(re.escape(str(wanted)), value, re.IGNORECASE)
            )
        case "contains_digits":
            return isinstance(value, str) and str(wanted) in value
    raise AssertionError(f"unhandled test {condition.test}")


def _kind(value: Any) -> int | None:
    if isinstance(value, bool):
        return len(_KINDS) - 1
    for index, kinds in enumerate(_KINDS):
        if isinstance(value, kinds):
            return index
    return None


def _equal(value: Any, wanted: Any) -> bool:
    kind = _kind(value)
    return kind is not None and kind == _kind(wanted) and bool(value == wanted)
