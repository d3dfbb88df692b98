"""The workspace channel: what connecting one takes, what is stored, what is answered.

A channel has an integer id per workspace, a name, respond.io's ``source``, its connect
fields (provider ids and webhook secrets, as given: the webhook intake verifies HMACs with
them; a custom channel's API token only as its SHA-256) and a webhook key: 32 random bytes,
URL-safe, the last segment of the channel's webhook URL. Deleting a channel keeps its row
(its messages will still name it) without its secrets; its webhooks are then unknown.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.channels.domain.errors import InvalidValue, show
from shared.api.channels import (
    INPUT_OF_SOURCE,
    SECRET_FIELDS,
    SOURCES,
    WEBHOOK_PATH_OF_SOURCE,
)
from shared.contracts.channels import Source

#: What a refused connect field must be, said in words (rather than as its regex).
FIELD_RULES: dict[str, str] = {
    "name": "must be 1-255 characters of one line, not only spaces",
    "phoneNumberId": "must be 1-32 decimal digits (Meta's phone number id)",
    "pageId": "must be 1-32 decimal digits (Meta's page id)",
    "displayPhoneNumber": "must be a phone number in E.164 (the + optional)",
    "phoneNumber": "must be a phone number in E.164 (+ and 7-15 digits)",
    "appSecret": "must be 8-256 printable ASCII characters without spaces",
    "authToken": "must be 8-256 printable ASCII characters without spaces",
    "signingSecret": "must be 8-256 printable ASCII characters without spaces",
    "verifyToken": "must be 1-256 printable ASCII characters without spaces",
    "address": "must be an email address",
    "idType": 'must be "phone" or "custom"',
}
#: Prefix of a custom channel's API token (tells it apart from a public API token).
API_TOKEN_PREFIX = "cch_"


class ChannelSpec(BaseModel):
    """A connect request, checked: the name, the source and the connect fields to store."""

    model_config = ConfigDict(frozen=True)

    name: str
    source: Source
    fields: dict[str, str] = Field(default_factory=dict)


class Channel(BaseModel):
    """A channel of a workspace as the service keeps it."""

    model_config = ConfigDict(frozen=True)

    workspace_id: str
    id: int = Field(ge=1)
    name: str
    source: Source
    created_at: datetime
    #: Connect fields: provider ids, secrets as given, ``apiTokenHash`` for custom channels.
    fields: dict[str, str] = Field(default_factory=dict)
    webhook_key: str
    deleted_at: datetime | None = None

    @property
    def webhook_path(self) -> str | None:
        """The ``/webhooks/<path>/`` segment of its webhooks (None: no inbound webhook)."""
        return WEBHOOK_PATH_OF_SOURCE.get(self.source)


def parse_connect(body: Any) -> ChannelSpec:
    """A connect body (``{name, source, ...connect fields}``) checked against its source's
    fields; InvalidValue (422) naming the field and the value otherwise."""
    if not isinstance(body, dict):
        raise InvalidValue(f"body: {show(body)} must be a JSON object")
    source = body.get("source")
    if source is None:
        raise InvalidValue("source: is required (one of " + ", ".join(SOURCES) + ")")
    if not isinstance(source, str) or source not in INPUT_OF_SOURCE:
        raise InvalidValue(f"source: {show(source)} is not one of " + ", ".join(SOURCES))
    try:
        parsed = INPUT_OF_SOURCE[source].model_validate(body)
    except ValidationError as exc:
        raise _refusal(exc, source=source) from None
    values = parsed.model_dump(exclude={"name", "source"})
    if source == "twilio":
        _check_phone("phoneNumber", values["phoneNumber"])
    if "address" in values:
        _check_email(values["address"])
    name = parsed.name.strip()
    return ChannelSpec(name=name, source=parsed.source,  # type: ignore[attr-defined]
                       fields={k: str(v) for k, v in values.items()})


def _refusal(exc: ValidationError, *, source: str) -> InvalidValue:
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    kind = first["type"]
    if kind == "extra_forbidden":
        return InvalidValue(f"{field}: unknown field for source {source}")
    if kind == "missing":
        return InvalidValue(f"{field}: is required for source {source}")
    value = first.get("input")
    if kind in ("string_type", "literal_error") or field not in FIELD_RULES:
        problem = str(first["msg"])
        problem = problem[0].lower() + problem[1:]
        return InvalidValue(f"{field}: {show(value)} is invalid ({problem})")
    return InvalidValue(f"{field}: {show(value)} {FIELD_RULES[field]}")


def _check_phone(field: str, value: str) -> None:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise InvalidValue(f"{field}: {show(value)} is not a possible phone number")


def _check_email(value: str) -> None:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue(f"address: {show(value)} is not a valid email address ({exc})"
                           ) from None


def new_webhook_key() -> str:
    """A webhook key: 32 random bytes, URL-safe base64 (43 characters), never guessable."""
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    """A custom channel's API token: ``cch_`` + 32 random bytes, URL-safe."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """What is stored of a custom channel's API token: its SHA-256, hex (a high-entropy
    token needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_channel(
    spec: ChannelSpec, *, workspace_id: str, channel_id: int, created_at: datetime,
    webhook_key: str, api_token: str | None = None,
) -> Channel:
    """The channel a checked connect request makes; a custom channel keeps its API token's
    hash only (the token itself is answered once)."""
    fields = dict(spec.fields)
    if spec.source == "custom_channel":
        if api_token is None:
            raise ValueError("a custom channel needs its API token")
        fields["apiTokenHash"] = hash_api_token(api_token)
    return Channel(workspace_id=workspace_id, id=channel_id, name=spec.name, source=spec.source,
                   created_at=created_at, fields=fields, webhook_key=webhook_key)


def public_fields(channel: Channel) -> dict[str, str]:
    """The connect fields that may be shown (no secret, no token hash)."""
    return {k: v for k, v in channel.fields.items()
            if k not in SECRET_FIELDS and k != "apiTokenHash"}


def webhook_url(public_url: str, channel: Channel) -> str | None:
    """The channel's full webhook URL under the gateway's public URL (None without one)."""
    path = channel.webhook_path
    if path is None:
        return None
    return f"{public_url.rstrip('/')}/webhooks/{path}/{channel.webhook_key}"
