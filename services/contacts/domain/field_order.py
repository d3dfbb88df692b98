"""Workspace settings of the contact details view: the order of its fields."""

from __future__ import annotations

from collections.abc import Sequence

from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import InvalidValue

#: Standard fields of the details view, in their default order (API names).
STANDARD_ORDER = (
    "firstName", "lastName", "phone", "email", "countryCode", "language", "assignee", "status",
    "tags",
)  # fmt: skip


def validate_field_order(
    fields: object, defs: Sequence[CustomFieldDefinition], *, complete: bool
) -> list[str]:
    """Check an order (known names, no repeats); `complete` appends the fields it leaves out.

    A stored order (`complete`) of `None` is the default order, and a custom field deleted
    since is dropped silently. A new order is a list (`[]` for the default order).
    """
    known = [*STANDARD_ORDER, *(d.name for d in defs)]
    if fields is None and complete:
        order: list[str] = []
    elif not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise InvalidValue.for_value("fields", fields, "is not a JSON array of field names")
    else:
        order = []
        for name in fields:
            if name in order:
                raise InvalidValue.for_value("fields", name, "appears twice")
            if name not in known:
                if complete:  # a stored order may name a field deleted since
                    continue
                raise InvalidValue.for_value(
                    "fields", name, "is neither a standard nor a custom field"
                )
            order.append(name)
    if complete:
        order += [name for name in known if name not in order]
    return order


def order_custom_fields(
    defs: Sequence[CustomFieldDefinition], saved: Sequence[str] | None
) -> list[CustomFieldDefinition]:
    """Custom fields in the saved details-view order; unplaced ones last, in creation order."""
    if not saved:
        return list(defs)
    rank = {name: i for i, name in enumerate(saved)}
    return sorted(defs, key=lambda d: rank.get(d.name, len(rank)))
