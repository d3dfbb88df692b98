"""Handlers of the contacts service: one plain async function per command or query.

A handler is `async def handler(command, deps: Deps) -> answer`: it loads what it needs,
calls the domain and saves the change with its events in one unit of work
(`deps.uow.run`). `HANDLERS` maps each command type to its handler; `Contacts` (what
`app.bootstrap` returns) dispatches a command to it with the wired `Deps`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from services.contacts.handlers import catalog, commands, contacts
from services.contacts.handlers.commands import Message
from services.contacts.handlers.deps import Deps

T = TypeVar("T")
Handler = Callable[[Any, Deps], Awaitable[Any]]

HANDLERS: dict[type[Message[Any]], Handler] = {
    commands.GetContact: contacts.get_contact,
    commands.ListContacts: contacts.list_contacts,
    commands.CreateContact: contacts.create_contact,
    commands.UpdateContact: contacts.update_contact,
    commands.UpsertContact: contacts.upsert_contact,
    commands.DeleteContact: contacts.delete_contact,
    commands.SetBlocked: contacts.set_blocked,
    commands.AddTags: contacts.add_tags,
    commands.RemoveTags: contacts.remove_tags,
    commands.ListTags: catalog.list_tags,
    commands.CreateTag: catalog.create_tag,
    commands.UpdateTag: catalog.update_tag,
    commands.DeleteTag: catalog.delete_tag,
    commands.ListCustomFields: catalog.list_custom_fields,
    commands.GetCustomField: catalog.get_custom_field,
    commands.CreateCustomField: catalog.create_custom_field,
    commands.GetFieldOrder: catalog.get_field_order,
    commands.SetFieldOrder: catalog.set_field_order,
}


class Contacts:
    """The handlers wired to their dependencies: `await contacts.handle(command)`."""

    def __init__(self, deps: Deps):
        self.deps = deps

    async def handle(self, message: Message[T]) -> T:
        """Run the handler of `message`'s type and return its answer."""
        handler = HANDLERS[type(message)]
        answer: T = await handler(message, self.deps)
        return answer


__all__ = ["HANDLERS", "Contacts", "Deps", "Handler"]
