"""The servers the integration tests run on: a replica-set database and a broker with topics."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer
from pymongo import MongoClient

from shared.kafka import dlq_topic
from shared.settings import Topics
from tests.fixtures.stack import JointFixture


def test_database_runs_transactions(servers: JointFixture) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(servers.mongo_url)
    try:
        coll = client["contacthub_fixture_check"]["docs"]
        with client.start_session() as session, session.start_transaction():
            coll.insert_one({"_id": "in-a-transaction"}, session=session)
        assert coll.find_one({"_id": "in-a-transaction"}) is not None
    finally:
        client.drop_database("contacthub_fixture_check")
        client.close()


async def test_every_topic_and_its_dlq_exist_with_six_partitions(servers: JointFixture) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers.kafka_bootstrap)
    await consumer.start()
    try:
        await consumer.topics()  # fetches metadata of every topic
        for topic in Topics().all():
            for name in (topic, dlq_topic(topic)):
                assert len(consumer.partitions_for_topic(name) or ()) == 6, name
    finally:
        await consumer.stop()
