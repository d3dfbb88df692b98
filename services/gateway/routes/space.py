"""Public ``/v2/space`` routes of the workspace catalog (tags, custom fields, field order),
one row each; the contacts service owns them. Everyone reads the catalog; changing it is a
workspace setting, for owners and managers (agents still assign tags to contacts)."""

from __future__ import annotations

from services.gateway.routing import QueryParam, Route
from shared.api.contacts import CONTACT_ID_MAX
from shared.api.roles import MANAGERS
from shared.api.space import (
    CustomFieldDefinition,
    CustomFieldInput,
    CustomFieldList,
    Done,
    FieldOrder,
    Tag,
    TagDeletion,
    TagInput,
    TagUpdate,
)
from shared.topology import CONTACTS

OWNER = CONTACTS.name
#: respond.io's pagination: `limit`, `cursorId` (and `beforeId`, the `previous` links').
PAGE = (
    QueryParam(name="limit", annotation=int, default=10, ge=1, le=100,
               description="Definitions per page", example=10),
    QueryParam(name="cursorId", annotation=int | None, ge=1, le=CONTACT_ID_MAX, example=4,
               description="Next page: definitions with ids above this one (not with "
               "`beforeId`)"),
    QueryParam(name="beforeId", annotation=int | None, ge=1, le=CONTACT_ID_MAX, example=5,
               description="Previous page: definitions with ids below this one (not with "
               "`cursorId`)"),
)

ROUTES: tuple[Route, ...] = (
    Route(method="GET", path="/v2/space/tag", service=OWNER, name="list_tags",
          summary="The workspace's tag catalog",
          description="Every tag of the workspace, by name (an extension: respond.io has no "
          "such route).",
          answer=list[Tag]),
    Route(method="POST", path="/v2/space/tag", service=OWNER, name="create_tag",
          summary="Create a tag (owner, manager)",
          description="Add a tag to the catalog (409 if the name exists, whatever its case); "
          "the answer carries its id.",
          answer=Tag, status_code=201, body=TagInput, roles=MANAGERS, idempotent=True),
    Route(method="PUT", path="/v2/space/tag", service=OWNER, name="update_tag",
          summary="Rename or restyle a tag (owner, manager)", roles=MANAGERS,
          description="Rename the tag `currentName` (contacts carrying it follow; 409 if the new "
          "name is another tag's) or change its description, colorCode, emoji.",
          answer=Tag, body=TagUpdate),
    Route(method="DELETE", path="/v2/space/tag", service=OWNER, name="delete_tag",
          summary="Delete a tag from the catalog (owner, manager)",
          description="Delete a tag from the catalog and from every contact carrying it.",
          answer=Done, body=TagDeletion, body_example={"name": "vip"}, roles=MANAGERS),
    Route(method="GET", path="/v2/space/custom_field", service=OWNER, name="list_custom_fields",
          summary="List custom field definitions (cursor pagination)",
          description="The workspace's custom field definitions by id (creation order). The "
          "details view's order is `GET /v2/space/contact_field_order`.",
          answer=CustomFieldList, query=PAGE),
    Route(method="GET", path="/v2/space/custom_field/{id}", service=OWNER,
          name="get_custom_field", summary="Get a custom field definition",
          description="The custom field definition with this id (404 when there is none).",
          answer=CustomFieldDefinition),
    Route(method="POST", path="/v2/space/custom_field", service=OWNER,
          name="create_custom_field", summary="Define a custom field (owner, manager)",
          description="Add a custom field definition (409 if its name or slug exists); the "
          "answer carries its id.",
          answer=CustomFieldDefinition, status_code=201, body=CustomFieldInput, roles=MANAGERS,
          idempotent=True),
    Route(method="GET", path="/v2/space/contact_field_order", service=OWNER,
          name="get_field_order", summary="The details-view field order",
          description="Standard and custom fields in the order the contact details view shows "
          "them.",
          answer=FieldOrder),
    Route(method="PUT", path="/v2/space/contact_field_order", service=OWNER,
          name="set_field_order", summary="Set the details-view field order (owner, manager)",
          description="Order of standard and custom fields in the contact details view "
          "(`[]`: the default order).",
          answer=FieldOrder, body=FieldOrder, roles=MANAGERS),
)
