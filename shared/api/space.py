"""Shapes of the public ``/v2/space`` API: the workspace's tag catalog, custom field
definitions and the contact details view's field order."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

#: Longest tag name, characters (catalog entries and names assigned to contacts).
TAG_NAME_MAX_CHARS = 255

CustomFieldType = Literal["text", "number", "date", "list", "checkbox", "email", "phone", "url"]
CUSTOM_FIELD_TYPES: tuple[str, ...] = CustomFieldType.__args__  # type: ignore[attr-defined]


class Tag(BaseModel):
    """A tag of the workspace catalog."""

    name: str = Field(max_length=TAG_NAME_MAX_CHARS, examples=["vip"])
    colour: str | None = Field(default=None, examples=["#ff8800"])
    emoji: str | None = Field(default=None, examples=["⭐"])
    description: str | None = None


class TagRename(BaseModel):
    """Body of ``PUT /v2/space/tag``: rename or restyle a tag."""

    currentName: str = Field(examples=["vip"])
    name: str | None = Field(default=None, examples=["VIP"])
    colour: str | None = None
    emoji: str | None = None
    description: str | None = None


class Deleted(BaseModel):
    """Answer of a deletion from the workspace catalog."""

    status: Literal["deleted"] = Field(examples=["deleted"])


class CustomFieldDefinition(BaseModel):
    """A custom field definition of the workspace."""

    name: str = Field(examples=["plan"])
    type: CustomFieldType
    options: list[str] | None = Field(default=None, examples=[["gold", "silver"]])
    description: str | None = None


class FieldOrder(BaseModel):
    """Order of the fields in the contact details view."""

    fields: list[str] = Field(examples=[["firstName", "lastName", "phone", "plan"]])
