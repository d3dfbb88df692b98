"""What the handlers need of storage and of the broker: small protocols (MongoDB and Kafka
implementations in `store/` and `inbound.py`, in-memory fakes in the tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from services.channels.domain.channel import Channel

Session = Any


class ChannelRepository(Protocol):
    """The workspace channels; every query names the workspace, except the webhook lookup
    (the webhook key is what identifies the workspace's channel)."""

    async def next_id(self, workspace_id: str) -> int:
        """Allocate the workspace's next channel id (outside any transaction)."""
        ...

    async def insert(self, channel: Channel, session: Session) -> None:
        """Store a new channel."""
        ...

    async def get(self, workspace_id: str, channel_id: int, session: Session = None
                  ) -> Channel | None:
        """A channel of the workspace that is not deleted, or None."""
        ...

    async def page(self, workspace_id: str, *, limit: int, after: int | None,
                   before: int | None) -> tuple[list[Channel], bool, bool]:
        """Up to `limit` channels by id ascending (above `after` or below `before`) and
        whether there are more after and before them."""
        ...

    async def mark_deleted(self, workspace_id: str, channel_id: int, *, at: datetime,
                           session: Session) -> bool:
        """Delete a channel (its secrets go, its row stays); False if there was none."""
        ...

    async def by_webhook_key(self, key: str) -> Channel | None:
        """The channel (of any workspace) whose webhook key this is, unless deleted."""
        ...


class InboundPublisher(Protocol):
    """Publishes verified webhook events; returns once the broker acknowledged every one."""

    async def publish(self, topic: str, records: Sequence[tuple[str, bytes]]) -> None:
        """Send `(key, value)` records to `topic` with acks=all and wait for every ack."""
        ...
