"""The contact list query as a MongoDB filter (the only place it becomes one)."""

from __future__ import annotations

import re

from services.contacts.domain.contact_query import (
    Condition,
    ContactQuery,
    Criterion,
    FieldRef,
    Group,
)
from services.contacts.store.documents import (
    KEYED_FIELDS,
    SEARCHED,
    grams_of,
    list_key,
)
from shared.mongo import Document


def mongo_filter(query: ContactQuery) -> Document:
    """The MongoDB filter over stored contacts that answers a contact query.

    Conditions that must all hold are top-level fields where they can be (a nested `$and`
    makes the local server's planner scan every workspace: docs/operations.md); the rest
    (any-of groups, a field tested twice) go in `$and`.
    """
    result: Document = {"workspace_id": query.workspace_id}
    if query.blocked is not None:
        result["blocked"] = query.blocked
    for criterion in (query.filter, _search_words(query.search)):
        if isinstance(criterion, Group) and criterion.combinator == "all":
            for item in criterion.items:
                result = with_clause(result, _criterion(item))
        elif isinstance(criterion, dict):
            result = with_clause(result, criterion)
        elif criterion is not None:
            result = with_clause(result, _criterion(criterion))
    return result


def _search_words(search: Criterion | None) -> Criterion | Document | None:
    """A search by words becomes one regex on `search_text` (a flat field the local planner
    handles on the workspace's index, where an `$or` per word over four fields made it scan
    every workspace); any other search (a phone-like one) stays as the domain built it."""
    words = search.items if isinstance(search, Group) and search.combinator == "all" else (
        (search,) if search is not None else ())
    texts = [_word(item) for item in words]
    if not texts or any(text is None for text in texts):
        return search
    if len(texts) == 1:
        pattern = re.escape(str(texts[0]))
    else:  # every word somewhere: one lookahead per word
        pattern = "".join(f"(?=[\\s\\S]*{re.escape(str(t))})" for t in texts)
    return {"search_text": {"$regex": pattern, "$options": "i"}}


#: Letters from the most to the least common in names and addresses: a piece made of later
#: ones (and digits) is likely held by fewer contacts.
_COMMON_FIRST = "eaoinrstlhcdmu.@-_ gypbfwkvjxzq"


def narrowing_keys(query: ContactQuery, found: Document) -> list[str] | None:
    """`list_keys` entries one of which every contact the query matches holds, or None.

    From the query's top-level conditions (those every match meets): a tag (`hasAnyOf`:
    any of its tags; `hasAllOf`: the first), an equal language, country, status or
    assignee; else the search's three-letter piece that looks rarest (words of three
    letters or more, plain ASCII so that case folding is the same as the search's).
    """
    ws = query.workspace_id
    tags = found.get("tag_keys")
    if isinstance(tags, str):
        return [list_key(ws, "tag", tags)]
    if isinstance(tags, dict) and len(tags) == 1:
        (operator, values), = tags.items()
        if operator == "$in" and values:
            return [list_key(ws, "tag", v) for v in values]
        if operator == "$all" and values:
            return [list_key(ws, "tag", values[0])]
    for name in KEYED_FIELDS:
        value = found.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return [list_key(ws, name, value)]
    search = query.search
    words = search.items if isinstance(search, Group) and search.combinator == "all" else (
        (search,) if search is not None else ())
    texts = [_word(item) for item in words]
    grams = {g for text in texts if text is not None and text.isascii() for g in grams_of(text)}
    if not grams:
        return None
    return [list_key(ws, "g", max(sorted(grams), key=_rarity))]


def _rarity(gram: str) -> int:
    """How rare a piece probably is: digits and rare letters score high."""
    return sum(
        len(_COMMON_FIRST) + 1 if ch.isdigit()
        else _COMMON_FIRST.index(ch) if ch in _COMMON_FIRST
        else len(_COMMON_FIRST)
        for ch in gram
    )


def _word(criterion: Criterion) -> str | None:
    """The word of a "this word in any searched field" group, or None for anything else."""
    if not (isinstance(criterion, Group) and criterion.combinator == "any"):
        return None
    items = criterion.items
    if len(items) != len(SEARCHED) or not all(isinstance(i, Condition) for i in items):
        return None
    conditions = [i for i in items if isinstance(i, Condition)]
    values = {c.value for c in conditions}
    if (
        [c.field.name for c in conditions] != list(SEARCHED)
        or any(c.field.custom or c.test != "contains" for c in conditions)
        or len(values) != 1
    ):
        return None
    return str(values.pop())


def with_clause(base: Document, clause: Document) -> Document:
    """`base` AND `clause`, flat where no field of `clause` is in `base` already."""
    if any(key.startswith("$") or key in base for key in clause):
        return {**base, "$and": [*base.get("$and", ()), clause]}
    return {**base, **clause}


def _criterion(criterion: Criterion) -> Document:
    if isinstance(criterion, Group):
        combinator = "$and" if criterion.combinator == "all" else "$or"
        return {combinator: [_criterion(item) for item in criterion.items]}
    return _condition(criterion)


def _path(field: FieldRef) -> str:
    if field.custom:
        return f"custom_fields.{field.name}"
    return "tag_keys" if field.name == "tags" else field.name


_SET_TESTS = {"one_of": "$in", "none_of": "$nin", "all_of": "$all"}
_BOUNDS = {"greater": "$gt", "less": "$lt"}


def _condition(condition: Condition) -> Document:
    path, test, value = _path(condition.field), condition.test, condition.value
    if path == "tag_keys" and test in ("is_set", "is_empty"):
        return {"tag_keys.0": {"$exists": test == "is_set"}}
    match test:
        case "is_set":
            return {path: {"$nin": [None, ""]}}
        case "is_empty":
            return {path: {"$in": [None, ""]}}
        case "equals":
            return {path: value}
        case "not_equals":
            return {path: {"$ne": value}}
        case "one_of" | "none_of" | "all_of":
            assert isinstance(value, tuple)
            return {path: {_SET_TESTS[test]: list(value)}}
        case "greater" | "less":
            return {path: {_BOUNDS[test]: value}}
        case "contains":
            return {path: {"$regex": re.escape(str(value)), "$options": "i"}}
        case "contains_digits":
            return {path: {"$regex": re.escape(str(value))}}
    raise AssertionError(f"unhandled test {test}")  # pragma: no cover
