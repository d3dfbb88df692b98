"""The channels handlers through `bootstrap` with in-memory fakes (issue 8): connect, list,
delete, and the webhook intake (lookup by key, the adapter's refusals, publish then answer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from services.channels.app import bootstrap
from services.channels.domain.channel import Channel, parse_connect, public_fields
from services.channels.domain.errors import Forbidden, NotFound
from services.channels.handlers import Channels
from services.channels.handlers.commands import (
    ConnectChannel,
    DeleteChannel,
    ListChannels,
    ReceiveWebhook,
)
from services.channels.handlers.webhooks import WebhookError
from services.channels.providers.base import ChannelKeys, RawWebhook, WebhookRefused
from services.channels.settings import ChannelsSettings
from shared.contracts.channels import InboundMessage
from shared.contracts.envelope import RawEnvelope
from shared.internal import Caller
from tests.support.contacts_memory import MemoryUnitOfWork
from tests.unit.channels.messages_memory import MemoryMessages

NOW = datetime(2026, 1, 2, tzinfo=UTC)
OWNER = Caller(workspace_id="ws1", user_id="1", role="owner")
AGENT = Caller(workspace_id="ws1", user_id="3", role="agent")
OTHER = Caller(workspace_id="ws2", user_id="1", role="owner")


class MemoryChannels:
    """Channels in a dict, as the Mongo store keeps them (deleted ones without secrets)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], Channel] = {}
        self.counters: dict[str, int] = {}

    def snapshot(self) -> object:
        return dict(self.rows)

    def restore(self, state: object) -> None:
        self.rows = dict(state)  # type: ignore[call-overload]

    async def next_id(self, workspace_id: str) -> int:
        self.counters[workspace_id] = self.counters.get(workspace_id, 0) + 1
        return self.counters[workspace_id]

    async def insert(self, channel: Channel, session: Any) -> None:
        self.rows[(channel.workspace_id, channel.id)] = channel

    async def get(self, workspace_id: str, channel_id: int, session: Any = None
                  ) -> Channel | None:
        found = self.rows.get((workspace_id, channel_id))
        return found if found is not None and found.deleted_at is None else None

    async def page(self, workspace_id: str, *, limit: int, after: int | None,
                   before: int | None) -> tuple[list[Channel], bool, bool]:
        live = sorted((c for (w, _), c in self.rows.items()
                       if w == workspace_id and c.deleted_at is None), key=lambda c: c.id)
        if before is not None:
            below = [c for c in live if c.id < before]
            page = below[-limit:]
            return page, bool(page) and page[-1].id < live[-1].id, len(below) > limit
        above = [c for c in live if after is None or c.id > after]
        page = above[:limit]
        return page, len(above) > limit, bool(page) and page[0].id > live[0].id

    async def mark_deleted(self, workspace_id: str, channel_id: int, *, at: datetime,
                           session: Any) -> bool:
        found = await self.get(workspace_id, channel_id)
        if found is None:
            return False
        self.rows[(workspace_id, channel_id)] = found.model_copy(
            update={"deleted_at": at, "fields": public_fields(found)})
        return True

    async def by_webhook_key(self, key: str) -> Channel | None:
        return next((c for c in self.rows.values()
                     if c.webhook_key == key and c.deleted_at is None), None)


@dataclass
class RecordingPublisher:
    """Records what would have gone to the broker."""

    sent: list[tuple[str, str, bytes]] = field(default_factory=list)

    async def publish(self, topic: str, records: Sequence[tuple[str, bytes]]) -> None:
        self.sent += [(topic, key, value) for key, value in records]


class FakeWhatsApp:
    """A provider whose signature is the header ``x-ok: yes`` and whose body is the text."""

    path = "whatsapp"
    sources = ("whatsapp_cloud",)

    def challenge(self, raw: RawWebhook, channel: ChannelKeys) -> str:
        if raw.query.get("hub.verify_token") != channel.fields["verifyToken"]:
            raise WebhookRefused(403, "hub.verify_token: wrong")
        return raw.query["hub.challenge"]

    def verify(self, raw: RawWebhook, channel: ChannelKeys) -> None:
        if raw.headers.get("x-ok") != "yes":
            raise WebhookRefused(401, "signature: wrong")

    def parse(self, raw: RawWebhook, channel: ChannelKeys) -> list[Any]:
        if not raw.body:
            raise WebhookRefused(400, "body: empty")
        return [InboundMessage(channel_id=channel.channel_id, source=channel.source,
                               sender_id="+33612345678", provider_message_id=f"m{i}",
                               sent_at=NOW, message={"type": "text", "text": text})
                for i, text in enumerate(raw.body.decode().split(","))]


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def handlers(publisher: RecordingPublisher) -> Channels:
    store = MemoryChannels()
    settings = ChannelsSettings(internal_token="x" * 32)  # type: ignore[call-arg]
    return bootstrap(settings, uow=MemoryUnitOfWork(store), channels=store,
                     messages=MemoryMessages(), publisher=publisher,
                     providers={"whatsapp": FakeWhatsApp()}, clock=lambda: NOW)


WHATSAPP = {"name": "WA", "source": "whatsapp_cloud", "phoneNumberId": "1",
            "displayPhoneNumber": "+15550783881", "appSecret": "s" * 16, "verifyToken": "vt"}


def _webhook(key: str, *, method: str = "POST", body: bytes = b"hi", path: str = "whatsapp",
             headers: dict[str, str] | None = None, query: dict[str, str] | None = None
             ) -> ReceiveWebhook:
    raw = RawWebhook(method=method, url=f"http://gw/webhooks/{path}/{key}",
                     headers=headers if headers is not None else {"x-ok": "yes"},
                     query=query or {}, body=body)
    return ReceiveWebhook(path=path, key=key, raw=raw)


async def test_connect_takes_ids_per_workspace_and_agents_may_not(handlers: Channels) -> None:
    first = await handlers.handle(ConnectChannel(caller=OWNER, spec=parse_connect(WHATSAPP)))
    second = await handlers.handle(ConnectChannel(
        caller=OWNER, spec=parse_connect({"name": "C", "source": "custom_channel",
                                          "idType": "custom"})))
    other = await handlers.handle(ConnectChannel(caller=OTHER, spec=parse_connect(WHATSAPP)))
    assert (first.channel.id, second.channel.id, other.channel.id) == (1, 2, 1)
    assert first.api_token is None and second.api_token is not None
    assert first.channel.webhook_key != second.channel.webhook_key
    with pytest.raises(Forbidden):
        await handlers.handle(ConnectChannel(caller=AGENT, spec=parse_connect(WHATSAPP)))
    with pytest.raises(Forbidden):
        await handlers.handle(DeleteChannel(caller=AGENT, channel_id=1))
    page = await handlers.handle(ListChannels(caller=OWNER, limit=1))
    assert [c.id for c in page.channels] == [1] and page.has_next and not page.has_previous


async def test_a_deleted_channel_lists_no_more_and_its_webhooks_are_404(
    handlers: Channels,
) -> None:
    channel = (await handlers.handle(ConnectChannel(caller=OWNER,
                                                    spec=parse_connect(WHATSAPP)))).channel
    with pytest.raises(NotFound):
        await handlers.handle(DeleteChannel(caller=OTHER, channel_id=channel.id))
    assert await handlers.handle(DeleteChannel(caller=OWNER, channel_id=channel.id)) == 1
    assert (await handlers.handle(ListChannels(caller=OWNER))).channels == []
    with pytest.raises(NotFound):
        await handlers.handle(_webhook(channel.webhook_key))
    with pytest.raises(NotFound):
        await handlers.handle(DeleteChannel(caller=OWNER, channel_id=channel.id))


async def test_a_verified_webhook_is_published_keyed_by_sender(
    handlers: Channels, publisher: RecordingPublisher,
) -> None:
    channel = (await handlers.handle(ConnectChannel(caller=OWNER,
                                                    spec=parse_connect(WHATSAPP)))).channel
    answer = await handlers.handle(_webhook(channel.webhook_key, body=b"one,two"))
    assert answer.status == 200 and answer.published == 2
    assert [key for _, key, _ in publisher.sent] == ["ws1:1:+33612345678"] * 2
    envelope = RawEnvelope.model_validate_json(publisher.sent[0][2])
    assert envelope.type == InboundMessage.TYPE and envelope.workspaceid == "ws1"
    assert envelope.data["message"] == {"type": "text", "text": "one"}
    assert {topic for topic, _, _ in publisher.sent} == {"channels.inbound.v1"}


async def test_refusals_and_wrong_paths_publish_nothing(
    handlers: Channels, publisher: RecordingPublisher,
) -> None:
    channel = (await handlers.handle(ConnectChannel(caller=OWNER,
                                                    spec=parse_connect(WHATSAPP)))).channel
    key = channel.webhook_key
    for command, status in ((_webhook(key, headers={}), 401), (_webhook(key, body=b""), 400),
                            (_webhook(key, method="GET", query={"hub.verify_token": "no"}), 403)):
        with pytest.raises(WebhookError) as refused:
            await handlers.handle(command)
        assert refused.value.status == status
    for command in (_webhook("unknown"), _webhook(key, path="sms"), _webhook(key, path="fax")):
        with pytest.raises(NotFound):
            await handlers.handle(command)
    assert publisher.sent == []
    challenge = await handlers.handle(_webhook(key, method="GET", query={
        "hub.verify_token": "vt", "hub.challenge": "42"}))
    assert (challenge.status, challenge.body, challenge.content_type) == (200, "42", "text/plain")
