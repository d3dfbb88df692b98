"""Shapes of the public ``/v2/contact`` API: a contact, its input, the list query and the
answers of actions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.api.pagination import Pagination
from shared.api.space import TAG_NAME_MAX_CHARS
from shared.api.text import NOT_BLANK_PATTERN, OneLine
from shared.api.users import Assignee, AssigneeRef

#: Tag names per call of ``POST`` / ``DELETE /v2/contact/{identifier}/tag``.
TAGS_PER_CALL_MAX = 10
#: The largest contact id (MongoDB's 64-bit integers); also the bound of ``cursorId``.
CONTACT_ID_MAX = 2**63 - 1

ContactStatus = Literal["open", "close"]
#: Condition categories of the contact list filter.
Category = Literal["contactField", "contactTag", "lifecycle"]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
#: Condition operators of the contact list filter.
Operator = Literal[
    "isEqualTo", "isNotEqualTo", "exists", "doesNotExist", "hasAnyOf", "hasAllOf", "hasNoneOf",
    "isGreaterThan", "isLessThan", "isTimestampAfter", "isTimestampBefore",
]  # fmt: skip
OPERATORS: tuple[str, ...] = Operator.__args__  # type: ignore[attr-defined]

#: Body of ``POST /v2/contact/{identifier}/tag``: 1-10 tag names.
TagNames = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=TAG_NAME_MAX_CHARS,
                                          pattern=NOT_BLANK_PATTERN)]],
    Field(min_length=1, max_length=TAGS_PER_CALL_MAX, examples=[["vip", "newsletter"]]),
]


class CustomFieldValue(BaseModel):
    """One custom field value of a contact."""

    model_config = ConfigDict(extra="forbid")

    name: OneLine = Field(examples=["plan"])
    value: Any = Field(examples=["gold"])


class ContactInput(BaseModel):
    """Fields of a create / update / upsert; absent fields are untouched, null clears."""

    model_config = ConfigDict(extra="forbid")

    firstName: OneLine | None = Field(default=None, examples=["Ann"])
    lastName: OneLine | None = Field(default=None, examples=["Lee"])
    phone: OneLine | None = Field(
        default=None, examples=["+33612345678"],
        description="Any format; national numbers use the workspace region")
    email: OneLine | None = Field(default=None, examples=["ann@example.com"])
    language: OneLine | None = Field(default=None, examples=["fr"])
    profilePic: OneLine | None = None
    countryCode: OneLine | None = Field(default=None, examples=["FR"],
                                    description="Set by hand: never overwritten from the phone")
    assignee: AssigneeRef | None = Field(
        default=None, description="A user of the workspace: its id or its email; null unassigns")
    custom_fields: list[CustomFieldValue] = Field(
        default_factory=list,
        description="Values to set (null clears one); not null itself: absent leaves them all")


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
    status: ContactStatus | None = None
    tags: list[str] = Field(default_factory=list, examples=[["vip"]])
    assignee: Assignee | None = None
    lifecycle: str | None = Field(
        default=None, description="The contact's lifecycle stage: null until lifecycles exist"
    )
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    created_at: int = Field(examples=[1795601592])
    blocked: bool = False


class ContactAction(BaseModel):
    """Answer of an action on a contact."""

    contactId: int = Field(examples=[42])


class ContactList(BaseModel):
    """One page of contacts."""

    items: list[Contact]
    pagination: Pagination


class Condition(BaseModel):
    """One filter condition of the contact list."""

    category: Category = Field(
        description="`contactField` (field: a standard or custom field), `contactTag` (field: "
        "`tags` or null), `lifecycle` (field: `lifecycle` or null; no contact has a lifecycle "
        "yet: `isEqualTo`, `hasAnyOf`, `exists` match none, `isNotEqualTo`, `hasNoneOf`, "
        "`doesNotExist` match every contact)"
    )
    field: str | None = Field(default=None, examples=["countryCode"])
    operator: Operator
    value: Any = Field(default=None, examples=["FR"])


class ListRequest(BaseModel):
    """Body of ``POST /v2/contact/list``."""

    model_config = ConfigDict(extra="forbid")

    search: OneLine | None = Field(default=None, examples=["ann"])
    timezone: OneLine | None = Field(default=None, examples=["Europe/Paris"])
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
