"""The contact aggregate: its fields and the update rules.

A `ContactPatch` lists what a create or update sends (API names; absent fields stay, null
clears); `apply_patch` validates it against the rules and gives the next version and the
API names of the fields it changed (custom fields as `custom_fields.<name>`). How a
contact is stored is `store.py`'s business, how it is shown `api_shapes.py`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.contacts.domain.custom_fields import CustomFieldDefinition, validate_custom_value
from services.contacts.domain.errors import InvalidValue, NotFound
from services.contacts.domain.fields import (
    country_for_phone,
    email_match_key,
    normalize_country,
    normalize_email,
    normalize_language,
    normalize_name,
    normalize_phone,
    normalize_url,
)
from services.contacts.domain.provider_phones import canonical_phone

#: The largest user id an assignee may be (64-bit integers).
ASSIGNEE_ID_MAX = 2**63 - 1
READ_ONLY_FIELDS = {
    "id": "is read-only",
    "status": "is read-only: it follows the conversation",
    "blocked": "is read-only: use block / unblock",
    "tags": "is read-only here: use the tag endpoints",
    "created_at": "is read-only",
    "lifecycle": "is read-only: lifecycles are not supported yet (always null)",
}


class Contact(BaseModel):
    """A customer of a workspace, as the contacts service stores it."""

    model_config = ConfigDict(frozen=True)

    workspace_id: str
    id: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    email_key: str | None = None
    phone: str | None = None
    country_code: str | None = None
    country_manual: bool = False
    language: str | None = None
    profile_pic: str | None = None
    #: The assignee's user id (the gateway resolves ids and emails, and shows the user).
    assignee: int | None = None
    status: Literal["open", "close"] | None = None
    #: The contact's lifecycle stage (respond.io's `lifecycle`): None until lifecycles exist.
    lifecycle: str | None = None
    blocked: bool = False
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @model_validator(mode="before")
    @classmethod
    def _derive_email_key(cls, data: Any) -> Any:
        # email_key is never set on its own: it always follows email.
        if isinstance(data, dict):
            email = data.get("email")
            data = {**data, "email_key": email_match_key(email) if email else None}
        return data

    @property
    def phone_canonical(self) -> str | None:
        """The phone's canonical E.164 form, for lookups and duplicates (DESIGN §1: a number a
        provider delivered is kept as delivered; this is the form it is matched by)."""
        return canonical_phone(self.phone) if self.phone else None

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        # A store may give back naive datetimes that are UTC.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class CustomFieldValue(BaseModel):
    """One `{name, value}` item of a contact's custom fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    value: Any = None


class ContactPatch(BaseModel):
    """The API's contact input; absent fields stay as they are, null clears a field."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")
    email: str | None = None
    phone: str | None = None
    country_code: str | None = Field(default=None, alias="countryCode")
    language: str | None = None
    profile_pic: str | None = Field(default=None, alias="profilePic")
    #: A user id: the gateway turns an email into one and checks it is a workspace user.
    assignee: int | None = Field(default=None, ge=1, le=ASSIGNEE_ID_MAX, strict=True)
    custom_fields: list[CustomFieldValue] | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_read_only_and_unknown(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise InvalidValue.for_value("body", data, "is not a JSON object")
        known = {info.alias or name for name, info in cls.model_fields.items()}
        known |= set(cls.model_fields)
        for key in data:
            if key in READ_ONLY_FIELDS:
                raise InvalidValue(f"{key}: {READ_ONLY_FIELDS[key]}", field=str(key))
            if key not in known:
                name = str(key)[:100]
                raise InvalidValue(f"{name}: unknown field", field=name)
        # null would read as "clear every custom field"; clearing is per field instead.
        if "custom_fields" in data and data["custom_fields"] is None:
            raise InvalidValue(
                "custom_fields: null is not a list: send a list; "
                "set a field's value to null to clear it",
                field="custom_fields",
            )
        return data


#: API (camelCase) name of each patch field.
API_NAMES = {name: info.alias or name for name, info in ContactPatch.model_fields.items()}
_FIELD_ORDER = [
    "first_name", "last_name", "email", "phone", "country_code", "language", "profile_pic",
    "assignee",
]  # fmt: skip


def apply_patch(
    contact: Contact | None,
    patch: ContactPatch,
    *,
    workspace_id: str,
    contact_id: int,
    default_region: str | None,
    custom_field_defs: Sequence[CustomFieldDefinition] = (),
    now: datetime,
) -> tuple[Contact, list[str]]:
    """Apply a patch (create when `contact` is None); return the contact and changed API names."""
    if contact is not None and (contact.workspace_id, contact.id) != (workspace_id, contact_id):
        raise NotFound(f"contact: {contact_id} not found", field="id")
    sent = patch.model_fields_set
    current = contact.model_dump() if contact else {}
    new: dict[str, Any] = {}  # every value is validated here, before anything is built

    for name in ("first_name", "last_name"):
        if name in sent:
            raw = getattr(patch, name)
            new[name] = None if raw is None else normalize_name(raw, field=API_NAMES[name])
    if "email" in sent:
        new["email"] = None if patch.email is None else normalize_email(patch.email)
    if "phone" in sent:
        new["phone"] = (
            None
            if patch.phone is None
            else normalize_phone(patch.phone, default_region=default_region)
        )
    if "language" in sent:
        new["language"] = None if patch.language is None else normalize_language(patch.language)
    if "profile_pic" in sent:
        pic = patch.profile_pic
        new["profile_pic"] = None if pic is None else normalize_url(pic, field="profilePic")
    if "assignee" in sent:
        new["assignee"] = patch.assignee
    new.update(_country(current, new, patch, sent))

    custom = dict(current.get("custom_fields", {}))
    changed = [API_NAMES[name] for name in _FIELD_ORDER if _differs(name, new, current)]
    for name, value in _custom_values(patch, custom_field_defs, default_region=default_region):
        if custom.get(name) != value:
            changed.append(f"custom_fields.{name}")
        if value is None:
            custom.pop(name, None)
        else:
            custom[name] = value
    if contact is None:
        created = Contact.model_validate(
            {
                **new,
                "workspace_id": workspace_id,
                "id": contact_id,
                "custom_fields": custom,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        return created, changed
    if not changed:
        return contact, []
    updated = Contact.model_validate(
        {
            **current,
            **new,
            "custom_fields": custom,
            "updated_at": now,
            "version": contact.version + 1,
        }
    )
    return updated, changed


def _differs(name: str, new: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether the patch changes a stored field; for the country, its manual flag counts too."""
    if name not in new:
        return False
    if name == "country_code" and new["country_manual"] != current.get("country_manual", False):
        return True
    return bool(new[name] != current.get(name))


def _country(
    current: dict[str, Any], new: dict[str, Any], patch: ContactPatch, sent: set[str]
) -> dict[str, Any]:
    """New country fields: a manual value wins; otherwise the country follows the phone."""
    phone = new.get("phone", current.get("phone"))
    if "country_code" in sent:
        if patch.country_code is not None:
            return {"country_code": normalize_country(patch.country_code), "country_manual": True}
        # Clearing a manual country hands it back to derivation from the current phone.
        return {
            "country_code": country_for_phone(phone) if phone else None,
            "country_manual": False,
        }
    if "phone" in sent and not current.get("country_manual", False):
        return {
            "country_code": country_for_phone(phone) if phone else None,
            "country_manual": False,
        }
    return {}


def _custom_values(
    patch: ContactPatch,
    defs: Sequence[CustomFieldDefinition],
    *,
    default_region: str | None,
) -> list[tuple[str, Any]]:
    """Validate the patch's custom field values against the workspace definitions."""
    if "custom_fields" not in patch.model_fields_set or patch.custom_fields is None:
        return []
    by_name = {defn.name: defn for defn in defs}
    values: dict[str, Any] = {}
    for item in patch.custom_fields:
        defn = by_name.get(item.name)
        if defn is None:
            raise InvalidValue.for_value(
                "custom_fields", item.name, "is not a custom field of this workspace"
            )
        if item.name in values:
            raise InvalidValue.for_value("custom_fields", item.name, "is given twice")
        values[item.name] = validate_custom_value(defn, item.value, default_region=default_region)
    return list(values.items())
