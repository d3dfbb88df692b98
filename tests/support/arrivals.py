"""Arrival times of a topic's events: what a test of prompt publishing measures."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


def _event_id(record: Any) -> str:
    event_id: str = dict(record.headers)["ce_id"].decode()
    return event_id


class Arrivals:
    """Every record of a topic from its start, with the monotonic time each id first came."""

    def __init__(self, bootstrap: str, topic: str):
        self._bootstrap, self._topic = bootstrap, topic
        self.first_seen: dict[str, float] = {}
        self.copies: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Arrivals:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        await consumer.topics()
        partitions = [TopicPartition(self._topic, p)
                      for p in sorted(consumer.partitions_for_topic(self._topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._collect(consumer))
        return self

    async def _collect(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                for batch in (await consumer.getmany(timeout_ms=50)).values():
                    now = time.monotonic()
                    for record in batch:
                        event_id = _event_id(record)
                        self.copies[event_id] += 1
                        self.first_seen.setdefault(event_id, now)
        finally:
            await consumer.stop()

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
