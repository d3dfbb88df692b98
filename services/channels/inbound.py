"""The producer of verified webhook events (``channels.inbound.v1``), started with the app.

Webhook events are published straight from the request, not through the outbox: the intake
stores nothing (the consumer deduplicates by the provider's message id), and the provider is
answered 200 only once the broker acknowledged every event (acks=all); a provider whose
request failed retries it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer


class BrokerUnavailable(Exception):
    """The broker did not acknowledge the events in time (the webhook answers 503)."""


class KafkaInboundPublisher:
    """Publishes `(key, value)` records with acks=all and waits for every acknowledgement."""

    def __init__(self, bootstrap_servers: str, *, client_id: str, timeout_s: float):
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect the producer (retried by aiokafka's own metadata refresh afterwards)."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-intake",
            acks="all", linger_ms=0, enable_idempotence=False,
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        """Flush and close the producer."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def publish(self, topic: str, records: Sequence[tuple[str, bytes]]) -> None:
        """Send every record, then wait until the broker acknowledged them all."""
        producer = self._producer
        if producer is None:
            raise BrokerUnavailable("the intake's producer is not connected yet")
        try:
            async with asyncio.timeout(self._timeout_s):
                sent = [await producer.send(topic, value=value, key=key.encode())
                        for key, value in records]
                await asyncio.gather(*sent)
        except TimeoutError as exc:
            raise BrokerUnavailable(f"the broker did not acknowledge within {self._timeout_s}s"
                                    ) from exc
        except Exception as exc:  # KafkaError and connection failures
            raise BrokerUnavailable(f"the broker refused the events: {exc!r}") from exc
