"""Public ``/v2/contact`` routes, one row each; the contacts service owns the data and its
rules. Rows register in order: literal paths before ``{identifier}`` ones."""

from __future__ import annotations

from services.gateway.forwarding import check_assignee, show_assignees
from services.gateway.routing import QueryParam, Route
from shared.api.contacts import (
    CONTACT_ID_MAX,
    Contact,
    ContactAction,
    ContactInput,
    ContactList,
    ListRequest,
    TagNames,
)
from shared.api.roles import MANAGERS
from shared.topology import CONTACTS

OWNER = CONTACTS.name
TAGS_EXAMPLE = ["vip", "newsletter"]
PAGE = (
    QueryParam(name="limit", annotation=int, default=10, ge=1, le=100,
               description="Contacts per page", example=10),
    QueryParam(name="cursorId", annotation=int | None, ge=1, le=CONTACT_ID_MAX, example=120,
               description="Next page: contacts with ids below this one (not with "
               "`beforeId`)"),
    QueryParam(name="beforeId", annotation=int | None, ge=1, le=CONTACT_ID_MAX, example=131,
               description="Previous page: contacts with ids above this one (not with "
               "`cursorId`)"),
)

ROUTES: tuple[Route, ...] = (
    Route(method="POST", path="/v2/contact/list", service=OWNER, name="list_contacts",
          summary="List contacts (search, filter, cursor pagination)",
          description="Contacts of the workspace matching `search` and `filter`, newest first."
          "\n\nThe query parameters are documented and checked here; the contacts service "
          "applies them (they are forwarded unchanged, like the `next` / `previous` URLs of "
          "the answer carry them).",
          answer=ContactList, body=ListRequest, body_required=False, query=PAGE,
          answer_filter=show_assignees),
    Route(method="POST", path="/v2/contact/create_or_update/{identifier}", service=OWNER,
          name="upsert_contact", summary="Create or update a contact",
          description="Update the contact the identifier names, or create it when there is none.",
          answer=ContactAction, body=ContactInput, body_required=False, checks=(check_assignee,),
          idempotent=True),
    Route(method="POST", path="/v2/contact/{identifier}", service=OWNER, name="create_contact",
          summary="Create a contact",
          description="Create a contact; the identifier (`email:` or `phone:`) sets that field.",
          answer=ContactAction, body=ContactInput, body_required=False, checks=(check_assignee,),
          idempotent=True, identifiers=("email", "phone")),
    Route(method="GET", path="/v2/contact/{identifier}", service=OWNER, name="get_contact",
          summary="Get a contact",
          description="The contact the identifier names (`email:`/`phone:` resolve to the "
          "oldest match).",
          answer=Contact, answer_filter=show_assignees),
    Route(method="PUT", path="/v2/contact/{identifier}", service=OWNER, name="update_contact",
          summary="Update a contact",
          description="Change the fields sent; absent fields stay, null clears.",
          answer=ContactAction, body=ContactInput, checks=(check_assignee,)),
    Route(method="DELETE", path="/v2/contact/{identifier}", service=OWNER,
          name="delete_contact", summary="Delete a contact (owner, manager)",
          description="Delete the contact for good; its conversation history goes with it.",
          answer=ContactAction, roles=MANAGERS),
    Route(method="POST", path="/v2/contact/{identifier}/tag", service=OWNER, name="add_tags",
          summary="Add tags to a contact",
          description="Add 1-10 tags by name; unknown names join the workspace catalog.",
          answer=ContactAction, body=TagNames, body_example=TAGS_EXAMPLE, idempotent=True),
    Route(method="DELETE", path="/v2/contact/{identifier}/tag", service=OWNER,
          name="remove_tags", summary="Remove tags from a contact",
          description="Remove tags from the contact; the workspace catalog keeps them.",
          answer=ContactAction, body=TagNames, body_example=TAGS_EXAMPLE),
    Route(method="POST", path="/v2/contact/{identifier}/block", service=OWNER,
          name="block_contact", summary="Block a contact",
          description="Block the contact: its workflows stop and its new messages are hidden.",
          answer=ContactAction, idempotent=True),
    Route(method="POST", path="/v2/contact/{identifier}/unblock", service=OWNER,
          name="unblock_contact", summary="Unblock a contact",
          description="Unblock the contact (from now on).", answer=ContactAction,
          idempotent=True),
)
