"""Shapes of the public ``/v2/space`` API: the workspace's tag catalog, custom field
definitions and the contact details view's field order."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Longest tag name, characters (catalog entries and names assigned to contacts).
TAG_NAME_MAX_CHARS = 255

CustomFieldType = Literal["text", "number", "date", "list", "checkbox", "email", "phone", "url"]
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

    name: str = Field(min_length=1, max_length=TAG_NAME_MAX_CHARS, examples=["vip"])
    description: str | None = Field(
        default=None, max_length=TAG_DESCRIPTION_MAX_CHARS, examples=["Top customers"]
    )
    colorCode: str | None = Field(default=None, pattern=COLOR_CODE_PATTERN,
                                  description=COLOR_CODE_DOC, examples=["tag-red"])
    emoji: str | None = Field(default=None, max_length=TAG_EMOJI_MAX_CHARS, examples=["⭐"],
                              description="Empty or null: none")


class TagUpdate(BaseModel):
    """Body of ``PUT /v2/space/tag``: rename or restyle the tag ``currentName``.

    Absent fields (and a null ``name``) are kept; a null or empty ``description``,
    ``colorCode`` or ``emoji`` clears it."""

    model_config = ConfigDict(extra="forbid")

    currentName: str = Field(examples=["vip"])
    name: str | None = Field(default=None, min_length=1, max_length=TAG_NAME_MAX_CHARS,
                             examples=["VIP"])
    description: str | None = Field(default=None, max_length=TAG_DESCRIPTION_MAX_CHARS)
    colorCode: str | None = Field(default=None, pattern=COLOR_CODE_PATTERN,
                                  description=COLOR_CODE_DOC, examples=["tag-green"])
    emoji: str | None = Field(default=None, max_length=TAG_EMOJI_MAX_CHARS, examples=["💎"])


class TagDeletion(BaseModel):
    """Body of ``DELETE /v2/space/tag``."""

    name: str = Field(examples=["vip"])


class Done(BaseModel):
    """respond.io's answer of an action without a result (a tag deleted)."""

    code: int = Field(examples=[200])
    message: str = Field(examples=['tag "vip" deleted'])


class CustomFieldDefinition(BaseModel):
    """A custom field definition of the workspace."""

    name: str = Field(examples=["plan"])
    type: CustomFieldType
    options: list[str] | None = Field(default=None, examples=[["gold", "silver"]])
    description: str | None = None


class FieldOrder(BaseModel):
    """Order of the fields in the contact details view."""

    fields: list[str] = Field(examples=[["firstName", "lastName", "phone", "plan"]])
