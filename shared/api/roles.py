"""Roles of a workspace's users: who may do what through the public API."""

from __future__ import annotations

from typing import Literal

Role = Literal["owner", "manager", "agent"]
#: Every role, most powerful first.
ROLES: tuple[Role, ...] = ("owner", "manager", "agent")
#: Roles that may delete contacts, remove channels, see merge history.
MANAGERS: tuple[Role, ...] = ("owner", "manager")
