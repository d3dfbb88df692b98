"""Kafka plumbing shared by every service: broker factory, topic creation, DLQ names."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from shared.settings import KafkaSettings

log = logging.getLogger(__name__)


def dlq_topic(topic: str) -> str:
    """Name of the dead-letter topic of ``topic``."""
    return f"{topic}.dlq"


def make_broker(settings: KafkaSettings, *, client_id: str) -> KafkaBroker:
    """Build (not start) the FastStream broker of one service.

    ``acks="all"`` and no idempotent producer: the local Tansu broker refuses
    idempotent/transactional producers, and the outbox already makes delivery
    at-least-once with consumer-side deduplication.
    """
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks="all",
        allow_auto_create_topics=False,
        logger=logging.getLogger(f"faststream.{client_id}"),
    )


async def ensure_topics(settings: KafkaSettings, *, attempts: int = 30) -> list[str]:
    """Create every topic of the system and its DLQ; return the names that were created.

    Safe to call again: topics that exist already are left as they are.
    """
    wanted: list[str] = []
    for topic in settings.topics.all():
        wanted += [topic, dlq_topic(topic)]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    for attempt in range(attempts):
        try:
            await admin.start()
            break
        except KafkaError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.2)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(t, num_partitions=settings.kafka_partitions, replication_factor=1)
                        for t in missing
                    ]
                )
        return missing
    finally:
        await admin.close()


def main() -> None:
    """``python -m shared.kafka``: create the topics named by the environment's settings."""
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class _TopicSettings(BaseSettings, KafkaSettings):
        model_config = SettingsConfigDict(env_prefix="CONTACTHUB_", env_nested_delimiter="__")

    created = asyncio.run(ensure_topics(_TopicSettings()))
    print(f"topics created: {len(created)}" + (f" ({', '.join(created)})" if created else ""))


if __name__ == "__main__":
    main()
