"""An in-memory `MessageRepository` (sender links and messages) for the channels unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from services.channels.domain.messages import SenderLink, StatusEntry, StoredMessage


class MemoryMessages:
    """Links and messages in dicts, keyed like the Mongo store."""

    def __init__(self) -> None:
        self.links: dict[str, SenderLink] = {}
        self.messages: dict[str, StoredMessage] = {}
        self.counters: dict[str, int] = {}

    def snapshot(self) -> object:
        return dict(self.links), dict(self.messages)

    def restore(self, state: object) -> None:
        links, messages = cast(tuple[dict[str, SenderLink], dict[str, StoredMessage]], state)
        self.links = dict(links)
        self.messages = dict(messages)

    async def allocate_ids(self, workspace_id: str, count: int) -> int:
        last = self.counters.get(workspace_id, 0) + count
        self.counters[workspace_id] = last
        return last - count + 1

    async def stored_keys(self, keys: Sequence[str], session: Any) -> set[str]:
        return {k for k in keys if k in self.messages}

    async def insert_messages(self, messages: Sequence[StoredMessage], session: Any) -> None:
        for message in messages:
            if message.key in self.messages:
                raise ValueError(f"duplicate key {message.key}")
            self.messages[message.key] = message

    async def touch_link(self, link: SenderLink, session: Any) -> bool:
        known = self.links.get(link.key)
        if known is None:
            self.links[link.key] = link.model_copy(update={"contact_id": None,
                                                           "contact_version": None})
            return True
        self.links[link.key] = known.model_copy(update={
            "first_message_at": min(known.first_message_at, link.first_message_at),
            "last_message_at": max(known.last_message_at, link.last_message_at)})
        return False

    async def link(self, key: str, session: Any = None) -> SenderLink | None:
        return self.links.get(key)

    async def set_contact(self, key: str, *, contact_id: int, version: int,
                          session: Any) -> None:
        self.links[key] = self.links[key].model_copy(
            update={"contact_id": contact_id, "contact_version": version})

    async def links_of(self, workspace_id: str, contact_id: int, session: Any = None
                       ) -> list[str]:
        return [k for k, link in self.links.items()
                if link.workspace_id == workspace_id and link.contact_id == contact_id]

    async def purge_contact(self, workspace_id: str, contact_id: int, session: Any
                            ) -> tuple[int, int]:
        links = set(await self.links_of(workspace_id, contact_id))
        gone = [k for k, m in self.messages.items() if m.link in links]
        for key in gone:
            del self.messages[key]
        for key in links:
            del self.links[key]
        return len(links), len(gone)

    async def add_status(self, key: str, entry: StatusEntry, session: Any) -> bool:
        message = self.messages.get(key)
        if message is None or message.traffic != "outgoing":
            return False
        self.messages[key] = message.model_copy(update={"status": (*message.status, entry)})
        return True

    async def page(self, workspace_id: str, links: Iterable[str], *, limit: int,
                   after: int | None, before: int | None
                   ) -> tuple[list[StoredMessage], bool, bool]:
        wanted = set(links)
        mine = sorted((m for m in self.messages.values()
                       if m.workspace_id == workspace_id and m.link in wanted),
                      key=lambda m: -m.id)
        if before is not None:
            newer = [m for m in mine if m.id > before]
            page = newer[-limit:]
            return page, bool(page) and any(m.id < page[-1].id for m in mine), \
                len(newer) > limit
        older = [m for m in mine if after is None or m.id < after]
        page = older[:limit]
        return page, len(older) > limit, bool(page) and any(m.id > page[0].id for m in mine)

    async def get(self, workspace_id: str, message_id: int) -> StoredMessage | None:
        return next((m for m in self.messages.values()
                     if m.workspace_id == workspace_id and m.id == message_id), None)
