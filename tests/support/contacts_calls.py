"""The contacts handlers called as the internal API calls them: request parts → command.

For tests that drive many handlers with raw identifiers and bodies (the way the HTTP
routes receive them); each method builds the command with `api_shapes` and handles it.
"""

from __future__ import annotations

from services.contacts.api_shapes import (
    add_tags_command,
    create_command,
    create_tag_command,
    delete_tag_command,
    identify,
    remove_tags_command,
    update_command,
    update_tag_command,
    upsert_command,
)
from services.contacts.domain.tags import Tag
from services.contacts.handlers import Contacts
from services.contacts.handlers.commands import GetContact, ListTags, Lookup
from shared.internal import Caller


class ContactsCalls:
    """One method per route used by the tests, taking what the route takes."""

    def __init__(self, contacts: Contacts):
        self.contacts = contacts

    async def get(self, caller: Caller, identifier: str) -> Lookup:
        """`GET /v2/contact/{identifier}`."""
        ident = identify(caller, identifier)
        return await self.contacts.handle(GetContact(caller=caller, identifier=ident))

    async def create(self, caller: Caller, identifier: str, body: object) -> int:
        """`POST /v2/contact/{identifier}`."""
        return await self.contacts.handle(create_command(caller, identifier, body))

    async def update(self, caller: Caller, identifier: str, body: object) -> int:
        """`PUT /v2/contact/{identifier}`."""
        return await self.contacts.handle(update_command(caller, identifier, body))

    async def upsert(self, caller: Caller, identifier: str, body: object) -> int:
        """`POST /v2/contact/create_or_update/{identifier}`."""
        return await self.contacts.handle(upsert_command(caller, identifier, body))

    async def add_tags(self, caller: Caller, identifier: str, body: object) -> int:
        """`POST /v2/contact/{identifier}/tag`."""
        return await self.contacts.handle(add_tags_command(caller, identifier, body))

    async def remove_tags(self, caller: Caller, identifier: str, body: object) -> int:
        """`DELETE /v2/contact/{identifier}/tag`."""
        return await self.contacts.handle(remove_tags_command(caller, identifier, body))

    async def tags(self, caller: Caller) -> list[Tag]:
        """`GET /v2/space/tag`."""
        return await self.contacts.handle(ListTags(caller=caller))

    async def create_tag(self, caller: Caller, body: object) -> Tag:
        """`POST /v2/space/tag`."""
        return await self.contacts.handle(create_tag_command(caller, body))

    async def update_tag(self, caller: Caller, body: object) -> Tag:
        """`PUT /v2/space/tag`."""
        return await self.contacts.handle(update_tag_command(caller, body))

    async def delete_tag(self, caller: Caller, body: object) -> None:
        """`DELETE /v2/space/tag`."""
        await self.contacts.handle(delete_tag_command(caller, body))
