"""Domain errors every service raises: each carries the HTTP status the API answers with.

A service's `domain/errors.py` re-exports these (and adds its own subclasses if it needs
any); its app maps `DomainError` to `{code, message}` with the error's status."""

from __future__ import annotations

import json
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ValidationError

_SHOWN_CHARS = 40

ModelT = TypeVar("ModelT", bound=BaseModel)


def show(value: object) -> str:
    """Render a rejected value for an error message: JSON-quoted, long strings cut with "…"."""
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        value = value[:_SHOWN_CHARS] + "…"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # circular structures: never fail while reporting a failure
        text = repr(value)
    if len(text) > 2 * _SHOWN_CHARS:
        text = text[: 2 * _SHOWN_CHARS] + "…"
    # A lone surrogate cannot be encoded in the UTF-8 answer: show it as its escape.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class DomainError(Exception):
    """A business rule refused the request; `message` names the field and the value."""

    status: int = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        # A lone surrogate sent in a key or value cannot be written in a UTF-8 answer.
        message = message.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(message)
        self.message = message
        self.field = field

    @classmethod
    def for_value(cls, field: str, value: object, problem: str) -> Self:
        """Build `<field>: <value> <problem>`: `phone: "+33 12" is not a valid phone number`."""
        return cls(f"{field}: {show(value)} {problem}", field=field)


class InvalidValue(DomainError):
    """A field has a value the rules refuse (HTTP 422)."""

    status = 422


class NotFound(DomainError):
    """The entity does not exist in this workspace (HTTP 404)."""

    status = 404


class Conflict(DomainError):
    """The request clashes with the current state, e.g. a duplicate (HTTP 409)."""

    status = 409


class Forbidden(DomainError):
    """The user's role does not allow the action (HTTP 403)."""

    status = 403


def invalid_from_pydantic(exc: ValidationError, *, prefix: str | None = None) -> InvalidValue:
    """Translate the first error of a pydantic ValidationError into an InvalidValue."""
    first = exc.errors(include_url=False)[0]
    path = ".".join(str(part) for part in first["loc"])
    field = ".".join(part for part in (prefix, path) if part) or (prefix or "body")
    if first["type"] == "extra_forbidden":
        return InvalidValue(f"{field}: unknown field", field=field)
    if first["type"] == "missing":
        return InvalidValue(f"{field}: is required", field=field)
    problem = str(first["msg"])
    problem = problem[0].lower() + problem[1:] if problem else "is invalid"
    return InvalidValue(f"{field}: {show(first.get('input'))} is invalid ({problem})", field=field)


def parse_model(model: type[ModelT], data: Any, *, prefix: str | None = None) -> ModelT:
    """Validate `data` as `model`, raising InvalidValue (never ValidationError) on bad input."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, prefix=prefix) from None
