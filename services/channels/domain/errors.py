"""Domain errors of the channels service: each carries the HTTP status the API answers with."""

from __future__ import annotations

import json

_SHOWN_CHARS = 40


def show(value: object) -> str:
    """A rejected value for an error message: JSON-quoted, long strings cut with "…"."""
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        value = value[:_SHOWN_CHARS] + "…"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        text = repr(value)
    if len(text) > 2 * _SHOWN_CHARS:
        text = text[: 2 * _SHOWN_CHARS] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class DomainError(Exception):
    """A business rule refused the request; ``message`` names the field and the value."""

    status: int = 400

    def __init__(self, message: str) -> None:
        message = message.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(message)
        self.message = message


class InvalidValue(DomainError):
    """A field has a value the rules refuse (HTTP 422)."""

    status = 422


class NotFound(DomainError):
    """The channel does not exist in this workspace (HTTP 404)."""

    status = 404


class Forbidden(DomainError):
    """The user's role does not allow the action (HTTP 403)."""

    status = 403
