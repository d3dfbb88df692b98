"""The JSON side of the channels API: request parts → commands, channels → public shapes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from services.channels.domain.channel import Channel, parse_connect, webhook_url
from services.channels.domain.messages import StoredMessage
from services.channels.handlers.commands import ConnectChannel, Connected, ReceiveWebhook
from services.channels.providers.base import RawWebhook
from shared.internal import Caller

#: The gateway forwards each header the provider sent as ``X-Provider-<name>``: the
#: provider's headers never mix with the internal ones (``X-Internal-Token``...).
PROVIDER_HEADER_PREFIX = "x-provider-"
#: The full public URL the provider called (scheme, host, path, query): Twilio signs it.
WEBHOOK_URL_HEADER = "X-Webhook-Url"
#: On every answer of the intake: the gateway passes a 401 of the intake on to the provider
#: (a 401 without it is the internal token refused: the gateway's fault, a 502).
WEBHOOK_ANSWER_HEADER = "X-Webhook-Answer"


def connect_command(caller: Caller, body: Any) -> ConnectChannel:
    """`POST /v2/space/channel`'s body, checked (422 naming the field otherwise)."""
    return ConnectChannel(caller=caller, spec=parse_connect(body))


def to_api(channel: Channel, *, public_url: str) -> dict[str, Any]:
    """respond.io's channel `{id, name, source, created_at}` and its `webhookUrl`; never a
    secret."""
    return {
        "id": channel.id,
        "name": channel.name,
        "source": channel.source,
        "created_at": int(channel.created_at.timestamp()),
        "webhookUrl": webhook_url(public_url, channel),
    }


def connected_to_api(connected: Connected, *, public_url: str) -> dict[str, Any]:
    """The connect answer: the channel, and a custom channel's `apiToken` (this once)."""
    shown = to_api(connected.channel, public_url=public_url)
    if connected.api_token is not None:
        shown["apiToken"] = connected.api_token
    return shown


def webhook_command(*, path: str, key: str, method: str, url: str,
                    headers: Mapping[str, str], query: str, body: bytes) -> ReceiveWebhook:
    """A forwarded webhook as the provider adapters read it: the provider's headers
    (lower-cased names, unprefixed), its query, raw body and the public URL it called."""
    provider_headers = {
        name[len(PROVIDER_HEADER_PREFIX):]: value for name, value in headers.items()
        if name.lower().startswith(PROVIDER_HEADER_PREFIX)
    }
    raw = RawWebhook(method=method.upper(), url=url, headers=provider_headers,
                     query=dict(parse_qsl(query, keep_blank_values=True)), body=body)
    return ReceiveWebhook(path=path, key=key, raw=raw)


def message_to_api(message: StoredMessage, *, contact_id: int) -> dict[str, Any]:
    """respond.io's message `{messageId, channelMessageId, contactId, channelId, traffic,
    message, status: [{value, timestamp}]}` (timestamps in unix seconds)."""
    return {
        "messageId": message.id,
        "channelMessageId": message.provider_message_id,
        "contactId": contact_id,
        "channelId": message.channel_id,
        "traffic": message.traffic,
        "message": message.message,
        "status": [
            {"value": s.value, "timestamp": int(s.at.timestamp()),
             **({"message": s.error} if s.error else {})}
            for s in message.status
        ],
    }
