"""Domain errors of the contacts service: the shared ones (`shared/domain_errors.py`)."""

from shared.domain_errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidValue,
    ModelT,
    NotFound,
    invalid_from_pydantic,
    parse_model,
    show,
)

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidValue",
    "ModelT",
    "NotFound",
    "invalid_from_pydantic",
    "parse_model",
    "show",
]
