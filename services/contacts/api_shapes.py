"""The contacts API's JSON shapes: requests parsed into commands, contacts shown.

Every parser raises `InvalidValue` (a 422 naming the field and the value), never a
pydantic `ValidationError`, and checks in the order the API always has (so a request with
two faults is refused for the same one). The routes in `api.py` and the unit tests build
their commands with the `*_command` functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from services.contacts.domain.contact import API_NAMES, Contact, ContactPatch
from services.contacts.domain.custom_fields import CustomFieldDefinition
from services.contacts.domain.errors import (
    InvalidValue,
    invalid_from_pydantic,
    parse_model,
    show,
)
from services.contacts.domain.fields import email_match_key, normalize_email, normalize_phone
from services.contacts.domain.identifiers import Identifier, parse_identifier
from services.contacts.domain.listing import ListQuery
from services.contacts.domain.tags import Tag, TagUpdate, validate_tag_names
from services.contacts.handlers.commands import (
    AddTags,
    CreateContact,
    CreateCustomField,
    CreateTag,
    DeleteTag,
    ListContacts,
    RemoveTags,
    SetFieldOrder,
    UpdateContact,
    UpdateTag,
    UpsertContact,
)
from shared.internal import Caller


# requests → commands --------------------------------------------------------------------------
def identify(caller: Caller, raw: str) -> Identifier:
    """A path's `id:`/`email:`/`phone:` identifier (national phones in the workspace region)."""
    return parse_identifier(raw, default_region=caller.default_region)


def list_command(
    caller: Caller, body: object, *, limit: int, after: int | None = None,
    before: int | None = None,
) -> ListContacts:
    """`POST /v2/contact/list`: the query and `blocked` of the body (none: every contact)."""
    query, blocked = parse_list_request(body if body is not None else {})
    return ListContacts(caller=caller, query=query, blocked=blocked, limit=limit, after=after,
                        before=before)


def create_command(caller: Caller, identifier: str, body: object) -> CreateContact:
    """`POST /v2/contact/{identifier}`: the `email:`/`phone:` identifier sets that field."""
    ident = identify(caller, identifier)
    if ident.kind == "id":
        raise InvalidValue.for_value(
            "identifier", identifier, "cannot create a contact: use email: or phone:"
        )
    patch = patch_with_identifier(body, ident, default_region=caller.default_region)
    return CreateContact(caller=caller, patch=patch)


def update_command(caller: Caller, identifier: str, body: object) -> UpdateContact:
    """`PUT /v2/contact/{identifier}`."""
    ident = identify(caller, identifier)
    return UpdateContact(caller=caller, identifier=ident, patch=parse_patch(body))


def upsert_command(caller: Caller, identifier: str, body: object) -> UpsertContact:
    """`POST /v2/contact/create_or_update/{identifier}`."""
    ident = identify(caller, identifier)
    if ident.kind == "id":  # ids are never chosen by callers: an update (404 when none)
        update = create = parse_patch(body)
    else:
        create = patch_with_identifier(body, ident, default_region=caller.default_region)
        # The identifier only fills its field on create: matching `email:ANN@…` must not
        # rewrite the stored spelling of `ann@…` (emails are stored as given).
        update = parse_patch({} if body is None else body)
    return UpsertContact(caller=caller, identifier=ident, create=create, update=update)


def add_tags_command(caller: Caller, identifier: str, body: object) -> AddTags:
    """`POST /v2/contact/{identifier}/tag`: a list of 1-10 tag names."""
    names = validate_tag_names(body)
    return AddTags(caller=caller, identifier=identify(caller, identifier), names=names)


def remove_tags_command(caller: Caller, identifier: str, body: object) -> RemoveTags:
    """`DELETE /v2/contact/{identifier}/tag`: a list of 1-10 tag names."""
    names = validate_tag_names(body)
    return RemoveTags(caller=caller, identifier=identify(caller, identifier), names=names)


def create_tag_command(caller: Caller, body: object) -> CreateTag:
    """`POST /v2/space/tag`: `{name, description?, colorCode?, emoji?}`."""
    return CreateTag(caller=caller, tag=parse_model(Tag, _tag_fields(body)))


def update_tag_command(caller: Caller, body: object) -> UpdateTag:
    """`PUT /v2/space/tag`: `currentName` and the fields it changes."""
    return UpdateTag(caller=caller, update=parse_tag_update(body))


def delete_tag_command(caller: Caller, body: object) -> DeleteTag:
    """`DELETE /v2/space/tag`: `{"name": ...}`."""
    return DeleteTag(caller=caller, name=parse_tag_deletion(body))


#: What a custom field definition body may send (respond.io's names).
CUSTOM_FIELD_FIELDS = ("name", "slug", "description", "dataType", "allowedValues")


def create_custom_field_command(caller: Caller, body: object) -> CreateCustomField:
    """`POST /v2/space/custom_field`: `{name, slug?, description?, dataType,
    allowedValues?}` (an empty slug or description is none)."""
    if not isinstance(body, dict):
        raise InvalidValue.for_value("body", body, "is not a JSON object")
    for key in body:
        if key == "id":
            raise InvalidValue("id: is read-only: the workspace gives each field its id",
                               field="id")
        if key not in CUSTOM_FIELD_FIELDS:
            name = str(key)[:100]
            raise InvalidValue(f"{name}: unknown field", field=name)
    return CreateCustomField(caller=caller, definition=parse_model(CustomFieldDefinition, body))


def set_field_order_command(caller: Caller, body: object) -> SetFieldOrder:
    """`PUT /v2/space/contact_field_order`."""
    return SetFieldOrder(caller=caller, fields=parse_field_order(body))


def parse_patch(body: object) -> ContactPatch:
    """A contact body (create, update, upsert) as a patch."""
    try:
        return ContactPatch.model_validate(body)
    except ValidationError as exc:
        raise _api_error(exc) from None


def _api_error(exc: ValidationError) -> InvalidValue:
    """Name fields by their API (camelCase) names in a translated pydantic error."""
    error = invalid_from_pydantic(exc)
    field = error.field or ""
    head, _, rest = field.partition(".")
    if head in API_NAMES and API_NAMES[head] != head:
        renamed = ".".join(part for part in (API_NAMES[head], rest) if part)
        return InvalidValue(error.message.replace(field, renamed, 1), field=renamed)
    return error


def patch_with_identifier(
    body: object, ident: Identifier, *, default_region: str | None
) -> ContactPatch:
    """The body's patch with the identifier's field set; a body that contradicts it is a 422."""
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise InvalidValue.for_value("body", body, "is not a JSON object")
    field = ident.kind
    sent = body.get(field)
    if sent is None:
        return parse_patch({**body, field: ident.value})
    patch = parse_patch(body)
    given = (
        normalize_phone(sent, default_region=default_region)
        if field == "phone"
        else email_match_key(normalize_email(sent))
    )
    if given != ident.key:
        raise InvalidValue.for_value(field, sent, "differs from the identifier")
    return patch


def parse_list_query(body: object) -> ListQuery:
    """A list body without `blocked`: search, time zone, filter."""
    if not isinstance(body, dict):
        raise InvalidValue.for_value("body", body, "is not a JSON object")
    try:
        return ListQuery.model_validate(body)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


def parse_list_request(body: object) -> tuple[ListQuery, bool | None]:
    """A list body's query and its `blocked` choice.

    Blocked contacts are listed apart: absent or false hides them, true lists only them,
    null lists everyone.
    """
    if not isinstance(body, dict):
        raise InvalidValue.for_value("body", body, "is not a JSON object")
    body = dict(body)
    blocked = body.pop("blocked", False)
    if blocked is not None and not isinstance(blocked, bool):
        raise InvalidValue.for_value("blocked", blocked, "must be true, false or null")
    return parse_list_query(body), blocked


#: What a catalog tag body may send besides `currentName` (respond.io's names).
TAG_FIELDS = ("name", "description", "colorCode", "emoji")


def _tag_fields(body: object) -> dict[str, Any]:
    """The fields of a tag body: a JSON object of `TAG_FIELDS` (the id is the catalog's)."""
    if not isinstance(body, dict):
        raise InvalidValue.for_value("body", body, "is not a JSON object")
    for key in body:
        if key == "id":
            raise InvalidValue("id: is read-only: the catalog gives each tag its id", field="id")
        if key not in TAG_FIELDS:
            name = str(key)[:100]
            raise InvalidValue(f"{name}: unknown field", field=name)
    return dict(body)


def parse_tag_update(body: object) -> TagUpdate:
    """Read a `PUT /v2/space/tag` body: `currentName` (required, 422) and the fields it
    changes; `name` null or absent keeps the name, a null or empty `description`,
    `colorCode` or `emoji` clears it."""
    current = body.get("currentName") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(current, str):
        raise InvalidValue.for_value("currentName", current, "is required")
    changes = _tag_fields({k: v for k, v in body.items() if k != "currentName"})
    if changes.get("name", "") is None:
        del changes["name"]
    return TagUpdate(current_name=current, changes=changes)


def parse_tag_deletion(body: object) -> str:
    """Read a `DELETE /v2/space/tag` body: the tag's name (422 when missing)."""
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise InvalidValue.for_value("name", name, "is required")
    return name


def parse_field_order(body: object) -> list[str]:
    """`{"fields": [...]}` of a field order (`[]`: the default order); a body without the list
    (null, `{}`, `{"fields": null}`, a bare list) is a 422, never a reset."""
    if not isinstance(body, dict):
        raise InvalidValue.for_value("body", body, 'is not {"fields": [...]}')
    fields = body.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise InvalidValue.for_value("fields", fields, "is not a JSON array of field names")
    return fields


# answers --------------------------------------------------------------------------------------
def tag_to_api(tag: Tag) -> dict[str, Any]:
    """A catalog tag as respond.io shows it: `{id, name, description, emoji, colorCode}`."""
    return {"id": tag.id, "name": tag.name, "description": tag.description, "emoji": tag.emoji,
            "colorCode": tag.color_code}


def custom_field_to_api(defn: CustomFieldDefinition) -> dict[str, Any]:
    """A custom field definition as respond.io shows it: `{id, name, slug, description,
    dataType, allowedValues}` (`allowedValues` null unless the type is list)."""
    return {"id": defn.id, "name": defn.name, "slug": defn.slug,
            "description": defn.description, "dataType": defn.type,
            "allowedValues": list(defn.options) if defn.type == "list" else None}


def tag_deleted(name: str) -> dict[str, Any]:
    """What `DELETE /v2/space/tag` answers (respond.io: `{code, message}`)."""
    return {"code": 200, "message": f"tag {show(name)} deleted"}


def to_api(
    contact: Contact, *, custom_field_defs: Sequence[CustomFieldDefinition] | None = None
) -> dict[str, Any]:
    """The public JSON of a contact (respond.io v2 shape plus `blocked`)."""
    if custom_field_defs is None:
        custom = [{"name": name, "value": value} for name, value in contact.custom_fields.items()]
    else:  # every defined field, in the workspace's order; values of deleted fields are hidden
        custom = [
            {"name": defn.name, "value": contact.custom_fields.get(defn.name)}
            for defn in custom_field_defs
        ]
    return {
        "id": contact.id,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "phone": contact.phone,
        "email": contact.email,
        "language": contact.language,
        "profilePic": contact.profile_pic,
        "countryCode": contact.country_code,
        "status": contact.status,
        "tags": list(contact.tags),
        "assignee": contact.assignee,
        "lifecycle": contact.lifecycle,
        "custom_fields": custom,
        "created_at": int(contact.created_at.timestamp()),
        "blocked": contact.blocked,
    }
