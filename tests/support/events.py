"""Reading what the system published, the way a downstream consumer sees it.

``EventTap`` assigns itself every partition of a topic (no consumer group, so no
group-join wait), starting at the current end: it sees exactly what is published
after it was opened.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.contracts import Envelope, parse


class EventTap:
    """Collects the envelopes published on one topic from the moment it starts."""

    def __init__(self, bootstrap: str, topic: str):
        self._bootstrap = bootstrap
        self._topic = topic
        self._consumer: AIOKafkaConsumer | None = None
        self.records: list[Any] = []

    async def __aenter__(self) -> EventTap:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        partitions = consumer.partitions_for_topic(self._topic)
        if not partitions:
            await consumer.stop()
            raise RuntimeError(f"topic {self._topic} does not exist")
        assigned = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for tp in assigned:  # resolve the end offsets now, not at the first fetch
            await consumer.position(tp)
        # Tansu answers "latest" with the start of the last record batch + 1, not the real
        # end: read past what is already there before the test does anything.
        while await consumer.getmany(timeout_ms=300):
            pass
        self._consumer = consumer
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def _drain(self, timeout_s: float) -> None:
        assert self._consumer is not None
        batches = await self._consumer.getmany(timeout_ms=int(timeout_s * 1000))
        for records in batches.values():
            self.records.extend(records)

    def envelopes(self, *, workspace_id: str | None = None) -> list[Envelope[Any]]:
        """Everything collected so far, parsed, optionally of one workspace only."""
        parsed = [parse(r.value) for r in self.records]
        return [e for e in parsed if workspace_id is None or e.workspaceid == workspace_id]

    async def wait_for(
        self,
        count: int,
        *,
        workspace_id: str | None = None,
        timeout_s: float = 15.0,
        settle_s: float = 0.5,
    ) -> list[Envelope[Any]]:
        """Wait until ``count`` envelopes (of the workspace) arrived, then a little longer,
        so that a duplicate or an extra event would be seen too; return them all."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            await self._drain(0.2)
            if len(self.envelopes(workspace_id=workspace_id)) >= count:
                break
        settle_until = time.monotonic() + settle_s
        while time.monotonic() < settle_until:
            await self._drain(0.1)
        await asyncio.sleep(0)
        return self.envelopes(workspace_id=workspace_id)
