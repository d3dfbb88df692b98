"""Stored contact documents and the contact aggregate, both ways.

Stored contact (collection `contacts`, one per contact; `to_document` / `from_document`):

    {
      "_id": "<workspace_id>:<id>",         # contact ids are unique per workspace only
      "workspace_id": str, "id": int,
      "first_name": str | None, "last_name": str | None,
      "email": str | None,                  # as given (stripped)
      "email_key": str | None,              # email lower-cased: what matching and filters use
      "phone": str | None,                  # E.164; a provider's number as delivered
      "phone_canonical": str | None,        # canonical E.164 of phone: what `phone:` matches
      "country_code": str | None,           # ISO 3166-1 alpha-2
      "country_manual": bool,               # True: set by a user, never derived from the phone
      "language": str | None,               # ISO 639-1 / BCP-47, canonical case
      "profile_pic": str | None, "assignee": int | None,  # a user id
      "status": "open" | "close" | None,    # follows the conversation; read-only here
      "lifecycle": str | None,              # the lifecycle stage; None until lifecycles exist
      "blocked": bool,
      "tags": [str],                        # display names, unique by tag_key, order kept
      "tag_keys": [str],                    # casefolded tags, for filters
      "custom_fields": {name: value},       # stored forms from validate_custom_value
      "created_at": datetime, "updated_at": datetime,   # UTC
      "version": int                        # 1 on create, +1 on every change
    }
"""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from services.contacts.domain.contact import Contact
from services.contacts.domain.tags import tag_key
from shared.mongo import Document

Session = AsyncClientSession | None


def document_id(workspace_id: str, contact_id: int) -> str:
    """The `_id` of a stored contact."""
    return f"{workspace_id}:{contact_id}"


def to_document(contact: Contact) -> Document:
    """The stored document of a contact (shape in the module docstring)."""
    return {
        "_id": document_id(contact.workspace_id, contact.id),
        **contact.model_dump(),
        "phone_canonical": contact.phone_canonical,
        "tag_keys": [tag_key(name) for name in contact.tags],
        "search_text": search_text(contact),
    }


#: The fields a search looks in (the domain's `listing._SEARCHED`), joined in `search_text`.
SEARCHED = ("first_name", "last_name", "email_key", "phone")


def search_text(contact: Contact) -> str:
    """The searched fields of a contact in one string, one per line: a search word (never a
    line break) matches it exactly when it matches one of the fields."""
    return "\n".join(str(v) for v in (getattr(contact, name) for name in SEARCHED) if v)


def from_document(doc: Document) -> Contact:
    """Rebuild a contact from its stored document."""
    fields = {
        key: value for key, value in doc.items()
        if key not in ("_id", "tag_keys", "phone_canonical", "search_text")
    }
    return Contact.model_validate(fields)
