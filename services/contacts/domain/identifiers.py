"""Contact identifiers of the public API: `id:123`, `email:ann@example.com`, `phone:+336…`.

`email:` and `phone:` may match several contacts (duplicates are allowed; merge suggestions
exist for them): the lookup resolves to the oldest contact, the one with the lowest id,
and reports how many matched.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.contacts.domain.errors import InvalidValue
from services.contacts.domain.fields import email_match_key, normalize_email, normalize_phone

Kind = Literal["id", "email", "phone"]


class Identifier(BaseModel):
    """A parsed identifier: what to match on, and the value as the user gave it (normalised)."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    #: `id`: the contact id; `email`: the lower-cased match key; `phone`: E.164.
    key: int | str
    #: The value to store when the identifier creates a contact (email as given, E.164 phone).
    value: int | str


def parse_identifier(raw: str, *, default_region: str | None) -> Identifier:
    """Parse `id:N`, `email:…` or `phone:…`; anything else is a 422 naming the identifier."""
    kind, sep, value = raw.partition(":")
    value = value.strip()
    if not sep or not value:
        raise InvalidValue.for_value(
            "identifier", raw, "must be id:<number>, email:<address> or phone:<number>"
        )
    if kind == "id":
        # ASCII digits only: "²".isdigit() holds and int("１") is 1.
        if not (value.isascii() and value.isdigit()) or len(value) > 18 or int(value) < 1:
            raise InvalidValue.for_value("identifier", raw, "is not a contact id")
        return Identifier(kind="id", key=int(value), value=int(value))
    if kind == "email":
        email = normalize_email(value)
        return Identifier(kind="email", key=email_match_key(email), value=email)
    if kind == "phone":
        phone = normalize_phone(value, default_region=default_region)
        return Identifier(kind="phone", key=phone, value=phone)
    raise InvalidValue.for_value("identifier", raw, "must start with id:, email: or phone:")
