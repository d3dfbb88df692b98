"""Who may change the workspace's channels (the gateway checks too; never one check only)."""

from __future__ import annotations

from services.channels.domain.errors import Forbidden
from shared.api.roles import MANAGERS

#: Roles that may connect and delete channels (and, later, remove one from a contact).
CHANNEL_MANAGERS = MANAGERS


def ensure_may_manage_channels(role: str, *, action: str) -> None:
    """Connecting or deleting a channel is for owners and managers only."""
    if role not in CHANNEL_MANAGERS:
        raise Forbidden(f"role: {role!r} may not {action} channels; owners and managers may")
