"""Tags: the workspace catalog and the names assigned to contacts.

Case: tag names match case-insensitively. `tag_key(name)` (the casefolded name) is the
identity used for lookup, de-duplication and filtering (`tag_keys` on stored contacts); the
display case is the one of the catalog entry, i.e. whoever created the tag first. Assigning
"vip" to a workspace that has "VIP" assigns "VIP".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, field_validator

from services.contacts.domain.errors import InvalidValue

TAG_NAME_MAX_CHARS = 255
TAGS_PER_CALL_MAX = 10
EMOJI_MAX_CHARS = 8
DESCRIPTION_MAX_CHARS = 500
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def tag_key(name: str) -> str:
    """The case-insensitive identity of a tag name."""
    return name.strip().casefold()


def _tag_name(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidValue.for_value("tags", raw, "is not a string")
    name = raw.strip()
    if not name:
        raise InvalidValue.for_value("tags", raw, "is empty")
    if len(name) > TAG_NAME_MAX_CHARS:
        raise InvalidValue.for_value("tags", raw, f"is longer than {TAG_NAME_MAX_CHARS} characters")
    return name


def validate_tag_names(names: object) -> list[str]:
    """Check a tag call's body: a list of 1-10 names; returns them stripped, de-duplicated."""
    if not isinstance(names, list):
        raise InvalidValue.for_value("tags", names, "is not a JSON array of tag names")
    if not names:
        raise InvalidValue("tags: no names given, at least 1 per call", field="tags")
    if len(names) > TAGS_PER_CALL_MAX:
        raise InvalidValue(
            f"tags: {len(names)} names given, at most {TAGS_PER_CALL_MAX} per call", field="tags"
        )
    return unique_names(_tag_name(raw) for raw in names)


def unique_names(names: Iterable[str]) -> list[str]:
    """Drop names whose key was already seen, keeping the first spelling and the order."""
    seen: set[str] = set()
    kept: list[str] = []
    for name in names:
        if (key := tag_key(name)) not in seen:
            seen.add(key)
            kept.append(name)
    return kept


def add_tag_names(
    current: list[str], added: list[str], *, catalog: Mapping[str, str] | None = None
) -> list[str]:
    """Append tags not yet assigned; `catalog` maps tag_key → display name of existing tags."""
    spelled = [catalog.get(tag_key(name), name) if catalog else name for name in added]
    return unique_names([*current, *spelled])


def remove_tag_names(current: list[str], removed: list[str]) -> list[str]:
    """Remove tags from a contact's list by key; the catalog is never touched."""
    keys = {tag_key(name) for name in removed}
    return [name for name in current if tag_key(name) not in keys]


class Tag(BaseModel):
    """A tag of the workspace catalog."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    colour: str | None = None
    emoji: str | None = None
    description: str | None = None

    @property
    def key(self) -> str:
        """Case-insensitive identity of the tag."""
        return tag_key(self.name)

    @field_validator("name", mode="before")
    @classmethod
    def _check_name(cls, name: object) -> str:
        try:
            return _tag_name(name)
        except InvalidValue as exc:
            raise InvalidValue(exc.message.replace("tags:", "name:", 1), field="name") from None

    @field_validator("colour")
    @classmethod
    def _check_colour(cls, colour: str | None) -> str | None:
        if colour is not None and not _COLOUR.match(colour):
            raise InvalidValue.for_value("colour", colour, "is not a colour written #RRGGBB")
        return colour.upper() if colour else None

    @field_validator("emoji")
    @classmethod
    def _check_emoji(cls, emoji: str | None) -> str | None:
        if emoji is not None and not 1 <= len(emoji) <= EMOJI_MAX_CHARS:
            raise InvalidValue.for_value("emoji", emoji, f"must be 1-{EMOJI_MAX_CHARS} characters")
        return emoji

    @field_validator("description")
    @classmethod
    def _check_description(cls, description: str | None) -> str | None:
        if description is not None and len(description) > DESCRIPTION_MAX_CHARS:
            raise InvalidValue.for_value(
                "description", description, f"is longer than {DESCRIPTION_MAX_CHARS} characters"
            )
        return description
