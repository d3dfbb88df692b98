"""Handlers of the channels service: one plain async function per command or query.

A handler is `async def handler(command, deps: Deps) -> answer`: it loads what it needs,
calls the domain and saves the change in one unit of work (`deps.uow.run`). `HANDLERS`
maps each command type to its handler; `Channels` (what `app.bootstrap` returns)
dispatches a command to it with the wired `Deps`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from services.channels.handlers import channels, commands, messages, webhooks
from services.channels.handlers.commands import Message
from services.channels.handlers.deps import Deps

T = TypeVar("T")
Handler = Callable[[Any, Deps], Awaitable[Any]]

HANDLERS: dict[type[Message[Any]], Handler] = {
    commands.ListChannels: channels.list_channels,
    commands.ConnectChannel: channels.connect_channel,
    commands.DeleteChannel: channels.delete_channel,
    commands.ReceiveWebhook: webhooks.receive_webhook,
    commands.ListMessages: messages.list_messages,
    commands.GetMessage: messages.get_message,
}


class Channels:
    """The handlers wired to their dependencies: `await channels.handle(command)`."""

    def __init__(self, deps: Deps):
        self.deps = deps

    async def handle(self, message: Message[T]) -> T:
        """Run the handler of `message`'s type and return its answer."""
        handler = HANDLERS[type(message)]
        answer: T = await handler(message, self.deps)
        return answer


__all__ = ["HANDLERS", "Channels", "Deps", "Handler"]
