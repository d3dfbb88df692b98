"""Tags: the workspace catalog and the names assigned to contacts.

Case: tag names match case-insensitively. `tag_key(name)` (the casefolded name) is the
identity used for lookup, de-duplication and filtering (`tag_keys` on stored contacts); the
display case is the one of the catalog entry, i.e. whoever created the tag first. Assigning
"vip" to a workspace that has "VIP" assigns "VIP".

Renaming or deleting a catalog tag rewrites every contact carrying it, batch by batch, in
three steps: (1) one transaction marks the catalog entry (`pending`: the rename's target,
or a deletion) and, for a rename to another key, reserves the new key with an entry
`reserved_for` the old one; (2) contacts are rewritten in batches; (3) one transaction
finalises the catalog. While a change is pending, assigning the tag follows the mark
(`CatalogEntry.assigned_name`): a renamed tag is assigned under its new name, a tag being
deleted is refused with a 409. A different change of the same tag is refused (409) until
the pending one is finished, which repeating the call that started it does.

Catalog tags are shaped as respond.io's (`id`, `name`, `description`, `emoji`,
`colorCode`): the id is an integer per workspace, taken when the tag enters the catalog
(created, or first assigned) and kept through renames. `colorCode` is one of respond.io's
palette names (`tag-grey`, `tag-red`, … `tag-purple`) or, as an extension, `#RRGGBB`. An
empty `colorCode`, `emoji` or `description` means none (respond.io's n8n node sends `""` for
what the user left blank).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.contacts.domain.errors import Conflict, InvalidValue, NotFound, parse_model, show
from services.contacts.domain.fields import check_text
from shared.api.contacts import TAGS_PER_CALL_MAX
from shared.api.space import (
    TAG_COLORS,
    TAG_DESCRIPTION_MAX_CHARS,
    TAG_EMOJI_MAX_CHARS,
    TAG_NAME_MAX_CHARS,
)

EMOJI_MAX_CHARS = TAG_EMOJI_MAX_CHARS
DESCRIPTION_MAX_CHARS = TAG_DESCRIPTION_MAX_CHARS
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def tag_key(name: str) -> str:
    """The case-insensitive identity of a tag name."""
    return name.strip().casefold()


def _tag_name(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidValue.for_value("tags", raw, "is not a string")
    name = check_text(raw.strip(), field="tags")
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


def rename_tag_name(current: list[str], *, key: str, name: str) -> list[str]:
    """A contact's tags with the tag `key` renamed to `name` (kept once, in its place)."""
    return unique_names([name if tag_key(tag) == key else tag for tag in current])


class Tag(BaseModel):
    """A tag of the workspace catalog (API names by alias: `colorCode`)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    #: Integer per workspace; None until the catalog stores the tag.
    id: int | None = None
    name: str
    color_code: str | None = Field(default=None, alias="colorCode")
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

    @field_validator("color_code", "emoji", "description", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("color_code")
    @classmethod
    def _check_color_code(cls, color: str | None) -> str | None:
        if color is None or color in TAG_COLORS:
            return color
        if not _HEX_COLOR.match(color):
            raise InvalidValue.for_value(
                "colorCode", color, f"is not one of {', '.join(TAG_COLORS)} nor a colour #RRGGBB"
            )
        return color.upper()

    @field_validator("emoji")
    @classmethod
    def _check_emoji(cls, emoji: str | None) -> str | None:
        if emoji is not None and len(emoji) > EMOJI_MAX_CHARS:
            raise InvalidValue.for_value(
                "emoji", emoji, f"is longer than {EMOJI_MAX_CHARS} characters"
            )
        return emoji if emoji is None else check_text(emoji, field="emoji")

    @field_validator("description")
    @classmethod
    def _check_description(cls, description: str | None) -> str | None:
        if description is not None and len(description) > DESCRIPTION_MAX_CHARS:
            raise InvalidValue.for_value(
                "description", description, f"is longer than {DESCRIPTION_MAX_CHARS} characters"
            )
        if description is not None:
            check_text(description, field="description", multiline=True)
        return description


class PendingTagChange(BaseModel):
    """A rename or deletion of a catalog tag that has started and is not finished yet."""

    model_config = ConfigDict(frozen=True)

    op: Literal["rename", "delete"]
    #: The tag after a rename (its name and style); None for a deletion.
    tag: Tag | None = None


class CatalogEntry(BaseModel):
    """A stored catalog tag with its pending change, or a reservation for a rename."""

    model_config = ConfigDict(frozen=True)

    tag: Tag
    pending: PendingTagChange | None = None
    #: Set on the entry of a rename's new key until the rename ends: the old tag's key.
    reserved_for: str | None = None

    @property
    def key(self) -> str:
        """Case-insensitive identity of the entry."""
        return self.tag.key

    def assigned_name(self) -> str:
        """The name a contact gets when assigned this tag; a tag being deleted is refused."""
        if self.pending is None:
            return self.tag.name
        if self.pending.op == "delete":
            raise Conflict.for_value(
                "tags",
                self.tag.name,
                "is being deleted from the catalog; assign it when that is done"
            )
        assert self.pending.tag is not None
        return self.pending.tag.name


@dataclass(frozen=True)
class TagUpdate:
    """A catalog tag update request: which tag (`currentName`) and the fields it changes
    (API names: `name`, `description`, `colorCode`, `emoji`)."""

    current_name: str
    changes: dict[str, Any]


def plan_tag_update(entry: CatalogEntry | None, update: TagUpdate) -> Tag:
    """The tag an update leads to: 404 for no such tag, 422 for bad fields, 409 when another
    change of the tag is pending. Renaming to a taken name is checked by `ensure_name_free`."""
    if entry is None:
        raise NotFound.for_value("currentName", update.current_name, "is not a tag")
    if entry.reserved_for is not None:
        raise _reserved(entry, "currentName", update.current_name)
    tag = parse_model(Tag, {**entry.tag.model_dump(by_alias=True), **update.changes})
    pending = entry.pending
    if pending is not None and (pending.tag is None or pending.tag.name != tag.name):
        raise _busy(entry, "currentName", update.current_name)
    return tag


def ensure_name_free(entry: CatalogEntry, tag: Tag, target: CatalogEntry | None) -> None:
    """A rename's new name must not be another tag (409); its own reservation is fine."""
    if tag.key != entry.key and target is not None and target.reserved_for != entry.key:
        raise Conflict.for_value("name", tag.name, "is already a tag of this workspace")


def plan_tag_deletion(entry: CatalogEntry | None, name: str) -> Tag:
    """The tag a deletion removes: 404 for no such tag, 409 while it is being renamed."""
    if entry is None:
        raise NotFound.for_value("name", name, "is not a tag")
    if entry.reserved_for is not None:
        raise _reserved(entry, "name", name)
    if entry.pending is not None and entry.pending.op != "delete":
        raise _busy(entry, "name", name)
    return entry.tag


def _busy(entry: CatalogEntry, field: str, name: str) -> Conflict:
    pending = entry.pending
    assert pending is not None
    doing = (
        f"is being renamed to {show(pending.tag.name)}; repeat that rename"
        if pending.tag is not None
        else "is being deleted; repeat the deletion"
    )
    return Conflict.for_value(field, name, f"{doing} to finish it first")


def _reserved(entry: CatalogEntry, field: str, name: str) -> Conflict:
    return Conflict.for_value(
        field, name, "is the new name of a tag still being renamed; repeat that rename first"
    )
