"""Subscribers of the contacts service: `contacts.commands.v1`, in batches.

The model for every service's subscribers: typed envelopes in → the command's handler, in
the unit of work that the batch runs in (processed-message records, writes and events in one
transaction per batch). Consecutive commands of one type go to their handler together, so it
can read and write in bulk. Parsing, deduplication, dead letters and outage redelivery are
`shared.consuming`'s; what a command does is its handler's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from itertools import groupby
from typing import Any

from faststream.kafka import KafkaBroker

from services.contacts.handlers.deps import Deps
from services.contacts.handlers.senders import SenderCommand, create_for_senders
from services.contacts.settings import ContactsSettings
from shared.consuming import ConsumerUnitOfWork, register_batch_consumer
from shared.contracts import CreateContactForSender, Envelope
from shared.unit_of_work import Transaction

GROUP = "contacts"

#: Applies a run of consecutive commands of one type, in bulk, inside the batch's transaction.
CommandHandler = Callable[[Sequence[Envelope[Any]], Deps, Transaction], Awaitable[object]]


async def _create_for_senders(
    envelopes: Sequence[Envelope[Any]], deps: Deps, tx: Transaction
) -> object:
    commands = [SenderCommand(e.workspaceid, e.data) for e in envelopes]
    return await create_for_senders(commands, deps=deps, tx=tx)


#: Command payload type → what applies it. A command without a row here is dead-lettered.
COMMANDS: dict[type[Any], CommandHandler] = {
    CreateContactForSender: _create_for_senders,
}


class UnhandledCommand(Exception):
    """A valid message on the commands topic that this service has no handler for."""


def register_consumers(
    broker: KafkaBroker,
    *,
    settings: ContactsSettings,
    uow: ConsumerUnitOfWork,
    deps: Deps,
    group_id: str = GROUP,
) -> None:
    """Subscribe the contacts service to its commands topic (before the broker starts).

    ``uow`` records processed messages under ``group_id`` (``runtime.uow.for_consumer``).
    """

    async def apply(envelopes: Sequence[Envelope[Any]], tx: Transaction) -> None:
        for kind, run in groupby(envelopes, key=lambda e: type(e.data)):
            handler = COMMANDS.get(kind)
            if handler is None:
                raise UnhandledCommand(f"type: {kind.__name__} is not a contacts command")
            await handler(list(run), deps, tx)

    register_batch_consumer(
        broker,
        service=settings.service_name,
        settings=settings,
        uow=uow,
        topic=settings.topics.contacts_commands,
        group_id=group_id,
        handler=apply,
        max_records=settings.command_batch_size,
        description="Commands to the contacts service, applied in batches (one transaction "
        "each). `contact.create_for_sender`: key `<workspaceid>:sender:<channel>:<sender>`.",
    )
