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
      "version": int,                       # 1 on create, +1 on every change
      # derived, for the list (store/query.py, store/id_windows.py):
      "search_text": str,                   # the searched fields, one per line
      "list_keys": [str],                   # "<workspace_id>:<what>:<value>:<id, 19
                                            # digits>": a search's three-letter pieces
                                            # (g), tags, language, country, status,
                                            # assignee (list_keys())
      "wid": str                            # "<workspace_id>:<id, 19 digits>": id windows
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
        "list_keys": list_keys(contact),
        "wid": window_key(contact.workspace_id, contact.id),
    }


#: Fields computed from the others when a contact is stored, never read back.
DERIVED = ("_id", "tag_keys", "phone_canonical", "search_text", "list_keys", "wid")
#: Fields whose value narrows a list through `list_keys` (with tags and search pieces).
KEYED_FIELDS = ("language", "country_code", "status", "assignee")

#: Search words are matched by their three-letter pieces (`list_keys` entries `<ws>:g:<piece>`).
GRAM = 3


def window_key(workspace_id: str, contact_id: int) -> str:
    """A key that sorts like the contact's id within its workspace: what an id window's range
    is on (the local planner walks one single-field index for a range, id_windows.py)."""
    return f"{workspace_id}:{contact_id:019d}"


def list_key(workspace_id: str, what: str, value: object) -> str:
    """A narrowing key: ``"<workspace_id>:<what>:<value>"``; a contact's `list_keys` entry is
    it followed by `posting`'s id part, so one key's contacts sort by id in the index."""
    return f"{workspace_id}:{what}:{value}"


def posting(key: str, contact_id: int) -> str:
    """The `list_keys` entry of a contact under a narrowing key (ranges of ids are ranges of
    these strings: the id has 19 digits)."""
    return f"{key}:{contact_id:019d}"


def grams_of(text: str) -> set[str]:
    """The lower-cased three-letter pieces of each line of a text."""
    return {
        line[i:i + GRAM]
        for line in text.lower().split("\n")
        for i in range(len(line) - GRAM + 1)
    }


def list_keys(contact: Contact) -> list[str]:
    """What a list can narrow its contacts by, in one indexed field: every three-letter piece
    of the searched fields (a search word occurs in a field only if each of its pieces
    does), each tag, and the language, country, status and assignee; keyed by workspace."""
    ws = contact.workspace_id
    keys = {list_key(ws, "g", g) for g in grams_of(search_text(contact))}
    keys.update(list_key(ws, "tag", tag_key(name)) for name in contact.tags)
    for name in KEYED_FIELDS:
        value = getattr(contact, name)
        if value is not None and value != "":
            keys.add(list_key(ws, name, value))
    return sorted(posting(key, contact.id) for key in keys)


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
        if key not in DERIVED
    }
    return Contact.model_validate(fields)
