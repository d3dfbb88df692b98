"""Shapes of the public ``/v2/space`` API: the workspace's tag catalog, custom field
definitions and the contact details view's field order."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.pagination import Pagination
from shared.api.text import MultiLine, NotBlank, OneLine

#: Longest tag name, characters (catalog entries and names assigned to contacts).
TAG_NAME_MAX_CHARS = 255
CUSTOM_FIELD_NAME_MAX_CHARS = 100
CUSTOM_FIELD_SLUG_MAX_CHARS = 100
CUSTOM_FIELD_DESCRIPTION_MAX_CHARS = 500

#: respond.io's custom field data types, and `phone` (an extension: E.164 numbers).
CustomFieldType = Literal[
    "text", "number", "date", "time", "list", "checkbox", "email", "phone", "url"
]
CUSTOM_FIELD_TYPES: tuple[str, ...] = CustomFieldType.__args__  # type: ignore[attr-defined]


#: respond.io's tag colours; `#RRGGBB` is accepted too (an extension).
TAG_COLORS = (
    "tag-grey", "tag-red", "tag-orange", "tag-yellow", "tag-green", "tag-blue", "tag-indigo",
    "tag-purple",
)  # fmt: skip
#: A `colorCode`: a respond.io colour, `#RRGGBB`, or empty (no colour).
COLOR_CODE_PATTERN = rf"^(|#[0-9A-Fa-f]{{6}}|{'|'.join(TAG_COLORS)})$"
COLOR_CODE_DOC = (
    f"One of {', '.join(TAG_COLORS)} (respond.io's colours) or `#RRGGBB`; empty or null: none"
)
TAG_EMOJI_MAX_CHARS = 8
TAG_DESCRIPTION_MAX_CHARS = 500


class Tag(BaseModel):
    """A tag of the workspace catalog (respond.io's `SpaceTag`)."""

    id: int = Field(examples=[3], description="Integer per workspace, kept through renames")
    name: str = Field(examples=["vip"])
    description: str | None = Field(default=None, examples=["Top customers"])
    emoji: str | None = Field(default=None, examples=["⭐"])
    colorCode: str | None = Field(default=None, examples=["tag-red"])


class TagInput(BaseModel):
    """Body of ``POST /v2/space/tag``: a new tag (respond.io's `CreateSpaceTagRequest`)."""

    model_config = ConfigDict(extra="forbid")

    name: NotBlank = Field(min_length=1, max_length=TAG_NAME_MAX_CHARS, examples=["vip"])
    description: MultiLine | None = Field(
        default=None, max_length=TAG_DESCRIPTION_MAX_CHARS, examples=["Top customers"]
    )
    colorCode: str | None = Field(default=None, pattern=COLOR_CODE_PATTERN,
                                  description=COLOR_CODE_DOC, examples=["tag-red"])
    emoji: OneLine | None = Field(default=None, max_length=TAG_EMOJI_MAX_CHARS, examples=["⭐"],
                              description="Empty or null: none")


class TagUpdate(BaseModel):
    """Body of ``PUT /v2/space/tag``: rename or restyle the tag ``currentName``.

    Absent fields (and a null ``name``) are kept; a null or empty ``description``,
    ``colorCode`` or ``emoji`` clears it."""

    model_config = ConfigDict(extra="forbid")

    currentName: NotBlank = Field(min_length=1, examples=["vip"])
    name: NotBlank | None = Field(default=None, min_length=1, max_length=TAG_NAME_MAX_CHARS,
                                 examples=["VIP"])
    description: MultiLine | None = Field(default=None, max_length=TAG_DESCRIPTION_MAX_CHARS)
    colorCode: str | None = Field(default=None, pattern=COLOR_CODE_PATTERN,
                                  description=COLOR_CODE_DOC, examples=["tag-green"])
    emoji: OneLine | None = Field(default=None, max_length=TAG_EMOJI_MAX_CHARS,
                                  examples=["💎"])


class TagDeletion(BaseModel):
    """Body of ``DELETE /v2/space/tag``."""

    model_config = ConfigDict(extra="forbid")

    name: NotBlank = Field(min_length=1, examples=["vip"])


class Done(BaseModel):
    """respond.io's answer of an action without a result (a tag deleted)."""

    code: int = Field(examples=[200])
    message: str = Field(examples=['tag "vip" deleted'])


class CustomFieldDefinition(BaseModel):
    """A custom field definition of the workspace (respond.io's `CustomField`)."""

    id: int = Field(examples=[4], description="Integer per workspace")
    name: str = Field(examples=["Plan"])
    slug: str = Field(examples=["plan"], description="Machine name, unique in the workspace")
    description: str | None = Field(default=None, examples=["The subscribed plan"])
    dataType: CustomFieldType = Field(examples=["list"])
    allowedValues: list[str] | None = Field(
        default=None, examples=[["gold", "silver"]], description="The options of a list field"
    )


class CustomFieldInput(BaseModel):
    """Body of ``POST /v2/space/custom_field`` (respond.io's `CreateCustomFieldRequest`)."""

    model_config = ConfigDict(extra="forbid")

    name: OneLine = Field(min_length=1, max_length=CUSTOM_FIELD_NAME_MAX_CHARS, examples=["Plan"],
                      description="Letters, digits, spaces, `_`, `-`; not a standard field's")
    slug: OneLine | None = Field(
        default=None, max_length=CUSTOM_FIELD_SLUG_MAX_CHARS, examples=["plan"],
        description="Letters, digits, `_` (stored lower-cased); empty or null: from the name",
    )
    description: MultiLine | None = Field(
        default=None, max_length=CUSTOM_FIELD_DESCRIPTION_MAX_CHARS,
        examples=["The subscribed plan"])
    dataType: CustomFieldType = Field(
        examples=["list"],
        description="respond.io's types and `phone` (E.164). A `time` value is `HH:MM` or "
        "`HH:MM:SS` (24-hour), kept as `HH:MM` when its seconds are zero",
    )
    allowedValues: list[NotBlank] | None = Field(
        default=None, examples=[["gold", "silver"]],
        description="The options of a `list` field (required for it; empty or null otherwise)",
    )


class CustomFieldList(BaseModel):
    """One page of custom field definitions, by id."""

    items: list[CustomFieldDefinition]
    pagination: Pagination


class FieldOrder(BaseModel):
    """Order of the fields in the contact details view (other keys of a body are ignored)."""

    fields: list[Annotated[OneLine, Field(min_length=1)]] = Field(
        examples=[["firstName", "lastName", "phone", "plan"]],
        json_schema_extra={"uniqueItems": True})
