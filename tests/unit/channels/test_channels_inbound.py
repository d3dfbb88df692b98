"""The inbound consumer's rules without Kafka (issue 8): messages stored once per provider id
on the sender's link, one `contact.create_for_sender` per new sender, delivery statuses,
contact events linking and purging, and the message queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.channels.app import bootstrap
from services.channels.domain.errors import NotFound
from services.channels.domain.messages import (
    SenderLink,
    StatusEntry,
    StoredMessage,
    create_for_sender,
    links_to,
    message_key,
)
from services.channels.handlers import Channels
from services.channels.handlers.commands import GetMessage, ListMessages
from services.channels.handlers.inbound import apply_contact_events, receive_inbound
from services.channels.settings import ChannelsSettings
from shared.contracts import envelope_for
from shared.contracts.channels import DeliveryStatus, InboundMessage, SenderProfile
from shared.contracts.contacts import (
    ContactCreated,
    ContactDeleted,
    ContactOrigin,
    ContactSenderLinked,
    ContactState,
    CreateContactForSender,
)
from shared.contracts.envelope import Envelope, Payload
from shared.internal import Caller
from tests.support.contacts_memory import MemoryOutbox, MemoryUnitOfWork
from tests.unit.channels.messages_memory import MemoryMessages

NOW = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
WS = "ws1"
WA = "+16505551234"


class NoChannels:
    """The channel store is not used by these handlers."""


def inbound(provider_id: str, *, sender: str = WA, source: Any = "whatsapp_cloud",
            text: str = "hi", **profile: Any) -> InboundMessage:
    return InboundMessage(channel_id=1, source=source, sender_id=sender,
                          provider_message_id=provider_id, sent_at=NOW,
                          message={"type": "text", "text": text},
                          profile=SenderProfile(**profile))


def wrap(*payloads: Payload) -> list[Envelope[Any]]:
    return [envelope_for(p, source="test", subject="x", workspace_id=WS) for p in payloads]


def created(contact_id: int, *, sender: str = WA, version: int = 1) -> ContactCreated:
    return ContactCreated(contact_id=contact_id, version=version,
                          contact=ContactState(created_at=NOW),
                          origin=ContactOrigin(channel_id=1, sender_id=sender))


@pytest.fixture
def store() -> MemoryMessages:
    return MemoryMessages()


@pytest.fixture
def outbox() -> MemoryOutbox:
    return MemoryOutbox()


@pytest.fixture
def handlers(store: MemoryMessages, outbox: MemoryOutbox) -> Channels:
    settings = ChannelsSettings(internal_token="x" * 32)  # type: ignore[call-arg]
    return bootstrap(settings, uow=MemoryUnitOfWork(store, outbox=outbox),
                     channels=NoChannels(), messages=store,  # type: ignore[arg-type]
                     publisher=object(), providers={}, clock=lambda: NOW)  # type: ignore[arg-type]


async def consume(handlers: Channels, *payloads: Payload) -> None:
    deps = handlers.deps

    async def work(tx: Any) -> None:
        await receive_inbound(wrap(*payloads), deps=deps, tx=tx)

    await deps.uow.run(work)


async def events(handlers: Channels, *payloads: Payload) -> None:
    deps = handlers.deps

    async def work(tx: Any) -> None:
        await apply_contact_events(wrap(*payloads), deps=deps, tx=tx)

    await deps.uow.run(work)


def commands(outbox: MemoryOutbox) -> list[Any]:
    return [r for r in outbox.records if r.envelope.type == CreateContactForSender.TYPE]


# domain ----------------------------------------------------------------------------------
def test_the_sender_command_carries_what_the_channel_knows() -> None:
    whatsapp = create_for_sender(inbound("m1", first_name="Ana", last_name="Lima", phone=WA,
                                         language="pt"))
    assert (whatsapp.first_name, whatsapp.last_name, whatsapp.phone, whatsapp.language) == (
        "Ana", "Lima", WA, "pt")
    assert whatsapp.origin == ContactOrigin(channel_id=1, sender_id=WA)
    messenger = create_for_sender(inbound("m2", sender="2468", source="facebook", phone=WA))
    assert messenger.phone is None  # a PSID is no phone
    mail = create_for_sender(inbound("m3", sender="ann@example.com", source="gmail"))
    assert mail.email == "ann@example.com" and mail.phone is None


def test_a_link_takes_its_first_contact_and_only_newer_versions_of_it() -> None:
    link = SenderLink(workspace_id=WS, channel_id=1, sender_id=WA, source="whatsapp_cloud",
                      first_message_at=NOW, last_message_at=NOW)
    assert not links_to(None, contact_id=1, version=1)
    assert links_to(link, contact_id=7, version=1)
    linked = link.model_copy(update={"contact_id": 7, "contact_version": 3})
    assert not links_to(linked, contact_id=7, version=3)
    assert links_to(linked, contact_id=7, version=4)
    assert not links_to(linked, contact_id=8, version=9)


# the inbound consumer --------------------------------------------------------------------
async def test_first_messages_of_a_new_sender_are_kept_and_ask_for_one_contact(
    handlers: Channels, store: MemoryMessages, outbox: MemoryOutbox
) -> None:
    await consume(handlers, inbound("m1", text="one", first_name="Ana", phone=WA),
                  inbound("m2", text="two"))
    await consume(handlers, inbound("m3", text="three"))

    assert sorted(m.id for m in store.messages.values()) == [1, 2, 3]
    [command] = commands(outbox)
    assert command.key == f"{WS}:sender:1:{WA}"
    assert command.envelope.data.first_name == "Ana" and command.envelope.data.phone == WA
    [link] = store.links.values()
    assert link.contact_id is None  # until contacts answers


async def test_a_retried_or_redelivered_message_changes_nothing(
    handlers: Channels, store: MemoryMessages, outbox: MemoryOutbox
) -> None:
    await consume(handlers, inbound("m1"), inbound("m1"))
    await consume(handlers, inbound("m1"))

    assert [m.id for m in store.messages.values()] == [1]
    assert len(commands(outbox)) == 1


async def test_a_delivery_status_applies_to_an_outgoing_message_only(
    handlers: Channels, store: MemoryMessages
) -> None:
    await consume(handlers, inbound("in-1"))
    out = StoredMessage(workspace_id=WS, id=9, channel_id=1, sender_id=WA, link=f"{WS}:1:{WA}",
                        provider_message_id="out-1", traffic="outgoing",
                        message={"type": "text", "text": "hello"}, sent_at=NOW,
                        received_at=NOW, status=(StatusEntry(value="pending", at=NOW),))
    store.messages[out.key] = out
    read: dict[str, Any] = {"channel_id": 1, "source": "whatsapp_cloud", "sender_id": WA,
                            "status": "read", "at": NOW}
    await consume(handlers, DeliveryStatus(provider_message_id="out-1", **read),
                  DeliveryStatus(provider_message_id="in-1", **read),
                  DeliveryStatus(provider_message_id="unknown", **read))

    assert [s.value for s in store.messages[out.key].status] == ["pending", "read"]
    assert [s.value for s in store.messages[message_key(WS, 1, "in-1")].status] == [
        "delivered"]


# contact events --------------------------------------------------------------------------
async def test_contact_events_link_the_sender_and_a_deletion_purges_its_history(
    handlers: Channels, store: MemoryMessages
) -> None:
    await consume(handlers, inbound("m1"), inbound("m2", sender="+16505550000"))
    await events(handlers, created(5), ContactSenderLinked(
        contact_id=6, version=2, origin=ContactOrigin(channel_id=1, sender_id="+16505550000")))
    await events(handlers, created(8, version=1))  # another contact for a linked sender

    owner = Caller(workspace_id=WS, user_id="u1", role="agent")
    page = await handlers.handle(ListMessages(caller=owner, contact_id=5))
    assert [m.provider_message_id for m in page.messages] == ["m1"]
    got = await handlers.handle(GetMessage(caller=owner, contact_id=6, message_id=2))
    assert got.provider_message_id == "m2"
    with pytest.raises(NotFound):
        await handlers.handle(GetMessage(caller=owner, contact_id=5, message_id=2))

    await events(handlers, ContactDeleted(contact_id=5, version=3))
    assert [m.provider_message_id for m in store.messages.values()] == ["m2"]
    assert list(store.links) == [f"{WS}:1:+16505550000"]
    assert (await handlers.handle(ListMessages(caller=owner, contact_id=5))).messages == []


async def test_the_message_list_pages_newest_first(handlers: Channels) -> None:
    await consume(handlers, *(inbound(f"m{i}") for i in range(1, 6)))
    await events(handlers, created(5))
    caller = Caller(workspace_id=WS, user_id="u1", role="agent")

    first = await handlers.handle(ListMessages(caller=caller, contact_id=5, limit=2))
    assert [m.id for m in first.messages] == [5, 4] and first.has_next
    assert not first.has_previous
    second = await handlers.handle(ListMessages(caller=caller, contact_id=5, limit=2, after=4))
    assert [m.id for m in second.messages] == [3, 2] and second.has_previous
    back = await handlers.handle(ListMessages(caller=caller, contact_id=5, limit=2, before=3))
    assert [m.id for m in back.messages] == [5, 4]
