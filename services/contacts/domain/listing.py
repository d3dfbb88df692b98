"""The contact list request of `POST /v2/contact/list` and the typed query it becomes.

`ListQuery` is the request (search, time zone, filter groups) as the API sends it, checked;
`build_contact_query` turns it into a `contact_query.ContactQuery` for one workspace, every
value normalised like the stored ones. Only the store knows how a repository runs it.
Decisions:
- `search` is a case-insensitive substring match (regex-escaped). Every word of the search
  must occur in one of first_name, last_name, email_key, phone, so "ann smith" finds
  Ann Smith. A search that looks like a phone number ("+33 6 12") also matches phones
  containing its digits, or the whole number when it parses (national forms use the
  workspace default region).
- `isEqualTo` / `hasAnyOf` compare exactly, except emails (lower-cased, as stored in
  email_key) and phones, countries and languages (normalised like stored values).
- `exists` means set and not empty; `doesNotExist` means missing, null or empty.
- Time custom fields (`HH:MM[:SS]`) take isEqualTo, isGreaterThan, isLessThan, … with a
  time of day, compared as stored (`custom_fields.time_of_day`).
- Timestamps are unix seconds or ISO 8601; an ISO value without offset is read in the
  query's `timezone` (an IANA name, matched case-insensitively: respond.io's clients send
  `"utc"`; the query keeps the canonical spelling, `UTC`), else UTC. On date custom
  fields they compare by calendar day.
- `lifecycle` conditions test the contact's lifecycle stage by exact name (field
  `lifecycle` or none): isEqualTo, isNotEqualTo, hasAnyOf, hasNoneOf, exists,
  doesNotExist. No contact has a lifecycle yet (it is null until lifecycles exist), so
  isEqualTo / hasAnyOf / exists match no contact and isNotEqualTo / hasNoneOf /
  doesNotExist match every one, like on any empty field.
- One level of nesting: an item of `$and` / `$or` may itself be a `$and` / `$or` of
  conditions. `{"$and": []}` means no filter.
- Numbers are bounded like stored ones: an `id` value is a 64-bit integer, any other
  number a finite float or an integer within ±(2^53 - 1) (`custom_fields.bounded_number`);
  numeric strings are ASCII digits. Texts compared or searched hold no control character
  (`fields.check_text`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, field_validator

from services.contacts.domain import contact_query as q
from services.contacts.domain.contact_query import ContactQuery
from services.contacts.domain.custom_fields import (
    CustomFieldDefinition,
    bounded_number,
    number_of_text,
    time_of_day,
    validate_custom_value,
)
from services.contacts.domain.errors import InvalidValue
from services.contacts.domain.fields import (
    check_text,
    email_match_key,
    normalize_country,
    normalize_language,
    normalize_phone,
)
from services.contacts.domain.tags import tag_key
from shared.api.contacts import CATEGORIES, OPERATORS, Operator

#: Bounds of an `id` value: MongoDB's 64-bit integers.
ID_VALUE_RANGE = (-(2**63), 2**63 - 1)
MAX_CONDITIONS = 50
MAX_VALUES = 100
SEARCH_MAX_CHARS = 255
SEARCH_MAX_WORDS = 10
#: Longest lifecycle stage name a filter compares with.
LIFECYCLE_NAME_MAX_CHARS = 255
#: Longer than any IANA zone name (the longest is 32 characters).
TIMEZONE_MAX_CHARS = 64

# API name → (contact attribute, kind of value)
STANDARD_FIELDS: dict[str, tuple[str, str]] = {
    "id": ("id", "id"),
    "firstName": ("first_name", "text"),
    "lastName": ("last_name", "text"),
    "email": ("email_key", "email"),
    "phone": ("phone", "phone"),
    "countryCode": ("country_code", "country"),
    "language": ("language", "language"),
    "assignee": ("assignee", "id"),
    "status": ("status", "status"),
    "created_at": ("created_at", "timestamp"),
}
_SEARCHED = ("first_name", "last_name", "email_key", "phone")
_PHONE_LIKE = re.compile(r"^\+?\d{3,}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-]")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$", re.ASCII)
_CUSTOM_NAME = re.compile(r"^[\w \-]{1,100}$")
_TAG_TESTS: dict[str, q.Test] = {"hasAnyOf": "one_of", "hasAllOf": "all_of", "hasNoneOf": "none_of"}
_ORDERED_KINDS = {"id", "timestamp", "number", "date", "time", "any"}
_TIMESTAMP_KINDS = {"timestamp", "date", "any"}


class Condition(BaseModel):
    """One `{category, field, operator, value}` condition of a list filter."""

    model_config = ConfigDict(frozen=True)

    category: Literal["contactField", "contactTag", "lifecycle"]
    field: str | None = None
    operator: Operator
    value: Any = None


class FilterGroup(BaseModel):
    """`{"$and": [...]}` or `{"$or": [...]}`: conditions or, one level down, groups."""

    model_config = ConfigDict(frozen=True)

    combinator: Literal["$and", "$or"]
    items: tuple[Condition | FilterGroup, ...]


class ListQuery(BaseModel):
    """The body of a contact list request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    search: str | None = None
    timezone: str | None = None
    filter: FilterGroup | None = None

    @field_validator("search")
    @classmethod
    def _check_search(cls, search: str | None) -> str | None:
        text = check_text(search.strip(), field="search") if search else ""
        if len(text) > SEARCH_MAX_CHARS:
            raise InvalidValue.for_value(
                "search", search, f"is longer than {SEARCH_MAX_CHARS} characters"
            )
        if len(text.split()) > SEARCH_MAX_WORDS:
            raise InvalidValue.for_value(
                "search", search, f"has more than {SEARCH_MAX_WORDS} words"
            )
        return text or None

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, timezone: str | None) -> str | None:
        return zone_name(timezone) if timezone else None

    @field_validator("filter", mode="before")
    @classmethod
    def _parse_filter(cls, raw: Any) -> FilterGroup | None:
        if raw is None or isinstance(raw, FilterGroup):
            return raw
        group = _parse_group(raw, path="filter", nested=False)
        return group if group.items else None


@cache
def _zone_names() -> dict[str, str]:
    """Every IANA zone name this machine knows, by its case-folded spelling."""
    return {name.casefold(): name for name in available_timezones()}


def zone_name(name: str) -> str:
    """The canonical spelling of an IANA time zone name given in any case (`utc` → `UTC`,
    `europe/paris` → `Europe/Paris`); 422 for anything else."""
    if len(name) <= TIMEZONE_MAX_CHARS:
        canonical = _zone_names().get(name.casefold())
        if canonical is not None:
            return canonical
        try:  # a name the zone list leaves out but the zone database still reads
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory, a bad path
            pass
        else:
            return name
    raise InvalidValue.for_value("timezone", name, "is not an IANA time zone")


def _zone(name: str) -> tzinfo:
    return ZoneInfo(zone_name(name))


def _parse_group(raw: Any, *, path: str, nested: bool) -> FilterGroup:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("$and", "$or"):
        raise InvalidValue.for_value(path, raw, 'is not {"$and": [...]} or {"$or": [...]}')
    combinator, items = next(iter(raw.items()))
    path = f"{path}.{combinator}"
    if not isinstance(items, list):
        raise InvalidValue.for_value(path, items, "is not a list")
    if len(items) > MAX_CONDITIONS:
        raise InvalidValue(f"{path}: more than {MAX_CONDITIONS} conditions", field=path)
    parsed: list[Condition | FilterGroup] = []
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if isinstance(item, dict) and ("$and" in item or "$or" in item):
            if nested:
                raise InvalidValue(f"{item_path}: groups nest one level at most", field=item_path)
            group = _parse_group(item, path=item_path, nested=True)
            if not group.items:
                raise InvalidValue(f"{item_path}: empty group", field=item_path)
            parsed.append(group)
        else:
            parsed.append(_parse_condition(item, path=item_path))
    return FilterGroup(combinator=combinator, items=tuple(parsed))


def _parse_condition(raw: Any, *, path: str) -> Condition:
    if not isinstance(raw, dict):
        raise InvalidValue.for_value(path, raw, "is not a condition object")
    for key in raw:
        if key not in ("category", "field", "operator", "value"):
            raise InvalidValue(f"{path}.{key}: unknown key", field=f"{path}.{key}")
    if raw.get("category") not in CATEGORIES:
        raise InvalidValue.for_value(
            f"{path}.category", raw.get("category"), f"is not {CATEGORIES}"
        )
    if raw.get("operator") not in OPERATORS:
        raise InvalidValue.for_value(f"{path}.operator", raw.get("operator"), "is not an operator")
    if raw.get("field") is not None and not isinstance(raw["field"], str):
        raise InvalidValue.for_value(f"{path}.field", raw["field"], "is not a field name")
    return Condition.model_validate(raw)


def build_contact_query(
    query: ListQuery,
    *,
    workspace_id: str,
    blocked: bool | None,
    custom_field_defs: Sequence[CustomFieldDefinition] | None = None,
    default_region: str | None = None,
) -> ContactQuery:
    """The typed query of a list request of one workspace (values normalised, checked)."""
    context = _Context(
        zone=_zone(query.timezone) if query.timezone else UTC,
        defs=None if custom_field_defs is None else {d.name: d for d in custom_field_defs},
        default_region=default_region,
    )
    return ContactQuery(
        workspace_id=workspace_id,
        blocked=blocked,
        filter=None if query.filter is None else _group(query.filter, path="filter",
                                                        context=context),
        search=_search(query.search, default_region=default_region) if query.search else None,
    )


def _search(search: str, *, default_region: str | None) -> q.Criterion:
    """Every word occurs in a searched field; a phone-like search also matches phone digits."""
    words: list[q.Criterion] = [
        q.Group("any", tuple(q.Condition(q.FieldRef(name), "contains", word)
                             for name in _SEARCHED))
        for word in search.split()
    ]
    by_words = words[0] if len(words) == 1 else q.Group("all", tuple(words))
    compact = _PHONE_PUNCTUATION.sub("", search)
    if not _PHONE_LIKE.match(compact):
        return by_words
    # "+33 6 12" is a number, not three words; "0612" may also be part of a name or email.
    alternatives = [by_words] if compact == search else []
    alternatives.append(q.Condition(q.FieldRef("phone"), "contains_digits", compact))
    with suppress(InvalidValue):  # a partial number: the digit match above is all there is
        e164 = normalize_phone(search, default_region=default_region)
        alternatives.append(q.Condition(q.FieldRef("phone"), "equals", e164))
    return q.Group("any", tuple(alternatives))


class _Context:
    """What conditions need besides themselves: time zone, custom field types, region."""

    def __init__(
        self,
        *,
        zone: tzinfo,
        defs: dict[str, CustomFieldDefinition] | None,
        default_region: str | None,
    ) -> None:
        self.zone = zone
        self.defs = defs
        self.default_region = default_region


def _group(group: FilterGroup, *, path: str, context: _Context) -> q.Group:
    path = f"{path}.{group.combinator}"
    parts: list[q.Criterion] = []
    for index, item in enumerate(group.items):
        item_path = f"{path}[{index}]"
        if isinstance(item, FilterGroup):
            parts.append(_group(item, path=item_path, context=context))
        else:
            parts.append(_condition(item, path=item_path, context=context))
    return q.Group("all" if group.combinator == "$and" else "any", tuple(parts))


def _condition(cond: Condition, *, path: str, context: _Context) -> q.Condition:
    if cond.category == "contactTag":
        return _tag_condition(cond, path=path)
    if cond.category == "lifecycle":
        return _lifecycle_condition(cond, path=path)
    field, kind, defn = _field(cond.field, path=f"{path}.field", context=context)
    op, value_path = cond.operator, f"{path}.value"

    def one(value: Any) -> Any:
        return _scalar(value, kind=kind, defn=defn, path=value_path, context=context)

    match op:
        case "exists":
            return q.Condition(field, "is_set")
        case "doesNotExist":
            return q.Condition(field, "is_empty")
        case "isEqualTo":
            return q.Condition(field, "equals", one(cond.value))
        case "isNotEqualTo":
            return q.Condition(field, "not_equals", one(cond.value))
        case "hasAnyOf" | "hasNoneOf":
            values = tuple(one(v) for v in _values(cond.value, path=value_path))
            return q.Condition(field, "one_of" if op == "hasAnyOf" else "none_of", values)
        case "isGreaterThan" | "isLessThan" if kind in _ORDERED_KINDS:
            bound = _bound(cond.value, kind=kind, path=value_path, context=context)
            return q.Condition(field, "greater" if op == "isGreaterThan" else "less", bound)
        case "isTimestampAfter" | "isTimestampBefore" if kind in _TIMESTAMP_KINDS:
            moment = _moment(cond.value, path=value_path, zone=context.zone)
            bound = moment if kind == "timestamp" else _day(moment, context.zone)
            return q.Condition(field, "greater" if op == "isTimestampAfter" else "less", bound)
    raise InvalidValue(
        f"{path}.operator: {op} does not apply to field {cond.field}", field=f"{path}.operator"
    )


def _tag_condition(cond: Condition, *, path: str) -> q.Condition:
    if cond.field not in (None, "", "tags"):
        raise InvalidValue.for_value(f"{path}.field", cond.field, "is not tags")
    tags = q.FieldRef("tags")
    match cond.operator:
        case "exists":
            return q.Condition(tags, "is_set")
        case "doesNotExist":
            return q.Condition(tags, "is_empty")
        case "hasAnyOf" | "hasAllOf" | "hasNoneOf":
            keys = []
            for name in _values(cond.value, path=f"{path}.value"):
                if not isinstance(name, str) or not name.strip():
                    raise InvalidValue.for_value(f"{path}.value", name, "is not a tag name")
                keys.append(tag_key(check_text(name.strip(), field=f"{path}.value")))
            return q.Condition(tags, _TAG_TESTS[cond.operator], tuple(keys))
    raise InvalidValue(
        f"{path}.operator: {cond.operator} does not apply to tags", field=f"{path}.operator"
    )


def _lifecycle_condition(cond: Condition, *, path: str) -> q.Condition:
    """A condition on the lifecycle stage (by exact name)."""
    if cond.field not in (None, "", "lifecycle"):
        raise InvalidValue.for_value(f"{path}.field", cond.field, "is not lifecycle")
    stage, value_path = q.FieldRef("lifecycle"), f"{path}.value"

    def name(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValue.for_value(value_path, value, "is not a lifecycle name")
        text = check_text(value.strip(), field=value_path)
        if len(text) > LIFECYCLE_NAME_MAX_CHARS:
            raise InvalidValue.for_value(
                value_path, value, f"is longer than {LIFECYCLE_NAME_MAX_CHARS} characters"
            )
        return text

    match cond.operator:
        case "exists":
            return q.Condition(stage, "is_set")
        case "doesNotExist":
            return q.Condition(stage, "is_empty")
        case "isEqualTo" | "isNotEqualTo":
            test: q.Test = "equals" if cond.operator == "isEqualTo" else "not_equals"
            return q.Condition(stage, test, name(cond.value))
        case "hasAnyOf" | "hasNoneOf":
            names = tuple(name(v) for v in _values(cond.value, path=value_path))
            return q.Condition(stage, "one_of" if cond.operator == "hasAnyOf" else "none_of",
                               names)
    raise InvalidValue(
        f"{path}.operator: {cond.operator} does not apply to lifecycle", field=f"{path}.operator"
    )


def _field(
    name: str | None, *, path: str, context: _Context
) -> tuple[q.FieldRef, str, CustomFieldDefinition | None]:
    """The contact field, value kind and (for custom fields) definition of an API field name."""
    if not name:
        raise InvalidValue(f"{path}: is required", field=path)
    if name in STANDARD_FIELDS:
        attribute, kind = STANDARD_FIELDS[name]
        return q.FieldRef(attribute), kind, None
    if context.defs is None:
        if not _CUSTOM_NAME.match(name):
            raise InvalidValue.for_value(path, name, "is not a contact field")
        return q.FieldRef(name, custom=True), "any", None
    defn = context.defs.get(name)
    if defn is None:
        raise InvalidValue.for_value(path, name, "is not a contact field")
    kind = {"number": "number", "date": "date", "time": "time"}.get(defn.type, "custom")
    return q.FieldRef(name, custom=True), kind, defn


def _values(value: Any, *, path: str) -> list[Any]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_VALUES:
        raise InvalidValue.for_value(path, value, f"is not a list of 1-{MAX_VALUES} values")
    return value


def _scalar(
    value: Any, *, kind: str, defn: CustomFieldDefinition | None, path: str, context: _Context
) -> Any:
    """A comparable value for a field, normalised like the stored values of that field."""
    if value is None or isinstance(value, (dict, list)):  # one value, never a structure
        raise InvalidValue.for_value(path, value, "is not a single value")
    try:
        match kind:
            case "text" | "email":
                if not isinstance(value, str):
                    raise InvalidValue.for_value(path, value, "is not a string")
                check_text(value, field=path)
                return email_match_key(value) if kind == "email" else value
            case "phone":
                if not isinstance(value, str):
                    raise InvalidValue.for_value(path, value, "is not a string")
                try:
                    return normalize_phone(value, default_region=context.default_region)
                except InvalidValue:
                    return value.strip()  # a stored phone is valid: this matches nothing
            case "country":
                return normalize_country(value, field=path)
            case "language":
                return normalize_language(value, field=path)
            case "status":
                if value not in ("open", "close"):
                    raise InvalidValue.for_value(path, value, 'is not "open" or "close"')
                return value
            case "id":
                return _number(value, path=path, integer=True)
            case "timestamp":
                return _moment(value, path=path, zone=context.zone)
        if defn is not None:
            return validate_custom_value(defn, value, default_region=context.default_region)
        if isinstance(value, str):
            return check_text(value, field=path, multiline=True)
        return value if isinstance(value, bool) else _number(value, path=path, integer=False)
    except InvalidValue as exc:
        if exc.field == path:
            raise
        raise InvalidValue(f"{path}: {exc.message}", field=path) from None


def _bound(value: Any, *, kind: str, path: str, context: _Context) -> Any:
    """The bound of isGreaterThan / isLessThan."""
    if kind == "timestamp":
        return _moment(value, path=path, zone=context.zone)
    if kind == "date":
        return _day(_moment(value, path=path, zone=context.zone), context.zone)
    if kind == "time":  # stored times compare as text (custom_fields.time_of_day)
        return time_of_day(value, field=path)
    if kind == "any" and isinstance(value, str):
        try:
            return _number(value, path=path, integer=False)
        except InvalidValue:
            return value  # type unknown: strings compare as strings (ISO dates sort right)
    return _number(value, path=path, integer=kind == "id")


def _number(value: Any, *, path: str, integer: bool) -> int | float:
    """An int or float (not bool) or a numeric string; integers only for ids (64-bit), other
    numbers bounded like a number field's (`bounded_number`)."""
    number: int | float
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidValue.for_value(path, value, "is not a number")
    number = number_of_text(value, field=path) if isinstance(value, str) else value
    if not math.isfinite(number):
        raise InvalidValue.for_value(path, value, "is not a finite number")
    if not integer:
        return bounded_number(number, field=path, value=value)
    if number != int(number):
        raise InvalidValue.for_value(path, value, "is not an integer")
    low, high = ID_VALUE_RANGE
    if not low <= int(number) <= high:
        raise InvalidValue.for_value(path, value, "is not a contact id (a 64-bit integer)")
    return int(number)


def _day(moment: datetime, zone: tzinfo) -> str:
    """The calendar day (YYYY-MM-DD) of a moment in the query's time zone."""
    return moment.astimezone(zone).date().isoformat()


def _moment(value: Any, *, path: str, zone: tzinfo) -> datetime:
    """A UTC datetime from unix seconds or an ISO 8601 string (no offset: read in `zone`)."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            text = value.strip()
            if _NUMBER.match(text):
                return datetime.fromtimestamp(float(text), UTC)
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise InvalidValue.for_value(path, value, "is not unix seconds or an ISO 8601 timestamp")
