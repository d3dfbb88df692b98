"""Who may do what with contacts (the gateway checks too; the service never trusts one check)."""

from __future__ import annotations

from services.contacts.domain.errors import Forbidden
from shared.api.roles import MANAGERS

#: Roles that may delete contacts.
DELETERS = MANAGERS
#: Roles that may change workspace settings: the tag catalog (create, rename, restyle,
#: delete), custom field definitions, the field order. Agents assign tags to contacts.
SETTINGS_EDITORS = MANAGERS


def ensure_may_delete(role: str) -> None:
    """Deleting contacts is for owners and managers only."""
    if role not in DELETERS:
        raise Forbidden(
            f"role: {role!r} may not delete contacts; owners and managers may", field="role"
        )


def ensure_may_change_settings(role: str, *, what: str) -> None:
    """Changing the workspace's ``what`` (its tag catalog, custom fields, field order) is for
    owners and managers only."""
    if role not in SETTINGS_EDITORS:
        raise Forbidden(
            f"role: {role!r} may not change the {what}; owners and managers may", field="role"
        )
