"""Queries of a contact's messages: the messages of the contact's sender links."""

from __future__ import annotations

from services.channels.domain.errors import NotFound
from services.channels.domain.messages import StoredMessage
from services.channels.handlers.commands import GetMessage, ListMessages, MessagePage
from services.channels.handlers.deps import Deps


async def list_messages(query: ListMessages, deps: Deps) -> MessagePage:
    """A page of the contact's messages, newest (highest messageId) first."""
    workspace = query.caller.workspace_id
    links = await deps.messages.links_of(workspace, query.contact_id)
    if not links:
        return MessagePage(messages=[], has_next=False, has_previous=False)
    messages, has_next, has_previous = await deps.messages.page(
        workspace, links, limit=query.limit, after=query.after, before=query.before)
    return MessagePage(messages=messages, has_next=has_next, has_previous=has_previous)


async def get_message(query: GetMessage, deps: Deps) -> StoredMessage:
    """The contact's message `message_id` (404 when missing or another contact's)."""
    workspace = query.caller.workspace_id
    message = await deps.messages.get(workspace, query.message_id)
    if message is None or message.link not in await deps.messages.links_of(
            workspace, query.contact_id):
        raise NotFound(f"messageId: message {query.message_id} does not exist for contact "
                       f"{query.contact_id}")
    return message
