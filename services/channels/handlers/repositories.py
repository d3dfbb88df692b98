"""What the handlers need of storage and of the broker: small protocols (MongoDB and Kafka
implementations in `store/` and `inbound.py`, in-memory fakes in the tests)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from services.channels.domain.channel import Channel
from services.channels.domain.messages import SenderLink, StatusEntry, StoredMessage

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


class MessageRepository(Protocol):
    """Sender links and their messages (keys in `domain.messages`)."""

    async def allocate_ids(self, workspace_id: str, count: int) -> int:
        """Reserve `count` message ids of the workspace (outside transactions); the first."""
        ...

    async def stored_keys(self, keys: Sequence[str], session: Session) -> set[str]:
        """Which of these message keys are stored already."""
        ...

    async def insert_messages(self, messages: Sequence[StoredMessage], session: Session
                              ) -> None:
        """Store new messages."""
        ...

    async def touch_link(self, link: SenderLink, session: Session) -> bool:
        """Create the link if new (no contact) and widen its message times; True if new."""
        ...

    async def link(self, key: str, session: Session = None) -> SenderLink | None:
        """A sender link by key."""
        ...

    async def set_contact(self, key: str, *, contact_id: int, version: int,
                          session: Session) -> None:
        """Set the link's contact."""
        ...

    async def links_of(self, workspace_id: str, contact_id: int, session: Session = None
                       ) -> list[str]:
        """The keys of the contact's links."""
        ...

    async def purge_contact(self, workspace_id: str, contact_id: int, session: Session
                            ) -> tuple[int, int]:
        """Delete the contact's links and their messages; how many of each."""
        ...

    async def add_status(self, key: str, entry: StatusEntry, session: Session) -> bool:
        """Append a status to an outgoing message; False if there is none."""
        ...

    async def page(self, workspace_id: str, links: Iterable[str], *, limit: int,
                   after: int | None, before: int | None
                   ) -> tuple[list[StoredMessage], bool, bool]:
        """Messages of the links, newest first, below `after` or above `before`."""
        ...

    async def get(self, workspace_id: str, message_id: int) -> StoredMessage | None:
        """A message of the workspace by its integer id."""
        ...


class InboundPublisher(Protocol):
    """Publishes verified webhook events; returns once the broker acknowledged every one."""

    async def publish(self, topic: str, records: Sequence[tuple[str, bytes]]) -> None:
        """Send `(key, value)` records to `topic` with acks=all and wait for every ack."""
        ...
