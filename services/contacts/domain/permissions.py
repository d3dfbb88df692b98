"""Who may do what with contacts (the gateway checks too; the service never trusts one check)."""

from __future__ import annotations

from services.contacts.domain.errors import Forbidden
from shared.api.roles import MANAGERS

#: Roles that may delete contacts.
DELETERS = MANAGERS


def ensure_may_delete(role: str) -> None:
    """Deleting contacts is for owners and managers only."""
    if role not in DELETERS:
        raise Forbidden(
            f"role: {role!r} may not delete contacts; owners and managers may", field="role"
        )
