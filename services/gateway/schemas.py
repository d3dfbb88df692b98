"""Shapes of the public API, for the OpenAPI document (validation itself is the services' job)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every error answer."""

    code: int = Field(examples=[422])
    message: str = Field(examples=['phone: "+33 12" is not a valid phone number'])


class CustomFieldValue(BaseModel):
    """One custom field value of a contact."""

    name: str = Field(examples=["plan"])
    value: Any = Field(examples=["gold"])


class ContactInput(BaseModel):
    """Fields of a create / update / upsert; absent fields are untouched, null clears."""

    firstName: str | None = Field(default=None, examples=["Ann"])
    lastName: str | None = Field(default=None, examples=["Lee"])
    phone: str | None = Field(default=None, examples=["+33612345678"],
                              description="Any format; national numbers use the workspace region")
    email: str | None = Field(default=None, examples=["ann@example.com"])
    language: str | None = Field(default=None, examples=["fr"])
    profilePic: str | None = None
    countryCode: str | None = Field(default=None, examples=["FR"],
                                    description="Set by hand: never overwritten from the phone")
    assignee: str | None = Field(default=None, description="User id of the workspace")
    custom_fields: list[CustomFieldValue] | None = None


class Contact(BaseModel):
    """A contact as the API shows it."""

    id: int = Field(examples=[42])
    firstName: str | None = None
    lastName: str | None = None
    phone: str | None = Field(default=None, examples=["+33612345678"])
    email: str | None = None
    language: str | None = None
    profilePic: str | None = None
    countryCode: str | None = Field(default=None, examples=["FR"])
    status: Literal["open", "close"] | None = None
    tags: list[str] = Field(default_factory=list, examples=[["vip"]])
    assignee: str | None = None
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    created_at: int = Field(examples=[1795601592])
    blocked: bool = False


class ContactAction(BaseModel):
    """Answer of an action on a contact."""

    contactId: int = Field(examples=[42])


class Pagination(BaseModel):
    """Links to the neighbouring pages."""

    next: str | None = None
    previous: str | None = None


class ContactList(BaseModel):
    """One page of contacts."""

    items: list[Contact]
    pagination: Pagination


class Condition(BaseModel):
    """One filter condition of the contact list."""

    category: Literal["contactField", "contactTag"]
    field: str | None = Field(default=None, examples=["countryCode"])
    operator: Literal[
        "isEqualTo", "isNotEqualTo", "exists", "doesNotExist", "hasAnyOf", "hasAllOf",
        "hasNoneOf", "isGreaterThan", "isLessThan", "isTimestampAfter", "isTimestampBefore",
    ]
    value: Any = Field(default=None, examples=["FR"])


class ListRequest(BaseModel):
    """Body of ``POST /v2/contact/list``."""

    search: str | None = Field(default=None, examples=["ann"])
    timezone: str | None = Field(default=None, examples=["Europe/Paris"])
    filter: dict[Literal["$and", "$or"], list[Condition | dict[str, Any]]] | None = Field(
        default=None,
        examples=[{"$and": [{"category": "contactField", "field": "countryCode",
                             "operator": "isEqualTo", "value": "FR"}]}],
    )
    blocked: bool | None = Field(
        default=False,
        description="Blocked contacts are listed apart: false (default) leaves them out, "
        "true lists only them, null lists everyone",
    )


class TagInput(BaseModel):
    """A tag of the workspace catalog."""

    name: str = Field(max_length=255, examples=["vip"])
    colour: str | None = Field(default=None, examples=["#ff8800"])
    emoji: str | None = Field(default=None, examples=["⭐"])
    description: str | None = None


class Deleted(BaseModel):
    """Answer of a deletion from the workspace catalog."""

    status: Literal["deleted"] = Field(examples=["deleted"])


class TagRename(BaseModel):
    """Body of ``PUT /v2/space/tag``: rename or restyle a tag."""

    currentName: str = Field(examples=["vip"])
    name: str | None = Field(default=None, examples=["VIP"])
    colour: str | None = None
    emoji: str | None = None
    description: str | None = None


class CustomFieldDefinition(BaseModel):
    """A custom field definition of the workspace."""

    name: str = Field(examples=["plan"])
    type: Literal["text", "number", "date", "list", "checkbox", "email", "phone", "url"]
    options: list[str] | None = Field(default=None, examples=[["gold", "silver"]])
    description: str | None = None


class FieldOrder(BaseModel):
    """Order of the fields in the contact details view."""

    fields: list[str] = Field(examples=[["firstName", "lastName", "phone", "plan"]])


def body_doc(model: type[BaseModel], *, array_of: bool = False,
             example: Any = None) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body the gateway forwards without re-validating."""
    schema = _inline_refs(model.model_json_schema())
    if array_of:
        schema = {"type": "array", "items": schema}
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``#/$defs/X`` references by their definitions (OpenAPI bodies stand alone)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result
