"""The webhook intake: a provider's request for a channel, verified by its adapter and
published on the inbound topic before the provider gets its 200.

Nothing is stored here: the inbound consumer deduplicates by the provider's message id.
"""

from __future__ import annotations

import json

from services.channels.domain.channel import Channel
from services.channels.domain.errors import DomainError, NotFound
from services.channels.handlers.commands import ReceiveWebhook, WebhookAnswer
from services.channels.handlers.deps import Deps
from services.channels.providers.base import ChannelKeys, Provider, WebhookRefused
from shared.contracts import envelope_for

SOURCE = "contacthub/channels"
#: Twilio reads the answer as TwiML: an empty ``<Response/>`` says "no reply".
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class WebhookError(DomainError):
    """A webhook the provider adapter refused (its status: 400, 401, 403, 405)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def inbound_key(workspace_id: str, channel_id: int, sender_id: str) -> str:
    """The Kafka key of an inbound event: one sender's events of a channel stay in order."""
    return f"{workspace_id}:{channel_id}:{sender_id}"


async def receive_webhook(command: ReceiveWebhook, deps: Deps) -> WebhookAnswer:
    """Look the channel up by its webhook key (unknown, deleted or at another provider's
    path: 404), answer a GET verification, or verify, parse and publish a POST (acks=all)
    and answer 200 once the broker has every event."""
    channel = await deps.channels.by_webhook_key(command.key)
    provider = deps.providers.get(command.path)
    if channel is None or provider is None or not _serves(provider, channel, command.path):
        raise NotFound("webhook: no channel is connected at this URL")
    keys = ChannelKeys(workspace_id=channel.workspace_id, channel_id=channel.id,
                       source=channel.source, fields=channel.fields)
    raw = command.raw
    try:
        if raw.method == "GET":
            return WebhookAnswer(200, provider.challenge(raw, keys), "text/plain")
        provider.verify(raw, keys)
        events = provider.parse(raw, keys)
    except WebhookRefused as refused:
        raise WebhookError(refused.status, refused.message) from None
    records = [
        (inbound_key(channel.workspace_id, channel.id, event.sender_id),
         envelope_for(event, source=SOURCE, subject=f"channel/{channel.id}",
                      workspace_id=channel.workspace_id).model_dump_json().encode())
        for event in events
    ]
    if records:
        await deps.publisher.publish(deps.inbound_topic, records)
    if command.path == "sms":
        return WebhookAnswer(200, EMPTY_TWIML, "text/xml", published=len(records))
    body = json.dumps({"code": 200, "message": f"accepted {len(records)} event(s)"})
    return WebhookAnswer(200, body, published=len(records))


def _serves(provider: Provider, channel: Channel, path: str) -> bool:
    return channel.webhook_path == path and channel.source in provider.sources
