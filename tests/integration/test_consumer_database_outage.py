"""A consumer whose database goes away redelivers, it does not dead-letter (DESIGN §3, §7).

The consumer's database is a private SecantusDB that this test starts, kills by its PID
while a message waits, and starts again on the same storage: the message is applied once
the database is back, and nothing reaches the DLQ.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.contracts import Envelope
from shared.mongo import make_mongo_client
from shared.settings import MongoSettings
from shared.unit_of_work import Transaction
from tests.fixtures.stack import JointFixture
from tests.integration.test_dead_letter import Topic, blocked, consumer

SECANTUSD = Path(sys.executable).with_name("secantusd-py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateDatabase:
    """A SecantusDB server of this test only, on 127.0.0.1."""

    def __init__(self, storage: Path):
        self.port = free_port()
        self.storage = storage
        self.url = f"mongodb://127.0.0.1:{self.port}/?directConnection=true&retryWrites=false"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [str(SECANTUSD), "--host", "127.0.0.1", "--port", str(self.port),
             "--storage-path", str(self.storage),
             # durable commits: the kill below must lose nothing the consumer committed
             "--sync-on-commit"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("private database did not start")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)
        self._proc = None


@pytest.fixture
def private_db(tmp_path: Path) -> Iterator[PrivateDatabase]:
    database = PrivateDatabase(tmp_path / "db")
    database.start()
    try:
        yield database
    finally:
        database.stop()


async def test_a_message_waits_out_a_database_outage_and_is_applied_once(
    servers: JointFixture, private_db: PrivateDatabase
) -> None:
    client = make_mongo_client(
        MongoSettings(mongo_url=private_db.url, mongo_database="outage"), app_name="outage"
    )
    db = client["outage"]

    async def apply(envelope: Envelope[Any], tx: Transaction) -> None:
        await db.handled.insert_one({"_id": envelope.id}, session=tx.session)

    async def handled(event_id: str, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if await db.handled.find_one({"_id": event_id}) is not None:
                    return True
            except Exception:  # the database is still coming back
                pass
            await asyncio.sleep(0.2)
        return False

    first, second = blocked(1), blocked(2)
    async with Topic(servers.kafka_bootstrap) as topic:
        broker = await consumer(servers, db, topic, apply)
        try:
            await topic.send(first.model_dump_json().encode())
            assert await handled(first.id, 40), "the consumer works while the database is up"

            private_db.stop()
            await topic.send(second.model_dump_json().encode())
            await asyncio.sleep(8)  # attempts fail: server selection times out after 5 s
            private_db.start()

            assert await handled(second.id, 60), "applied once the database is back"
            assert await topic.dead_letters(0) == [], "an outage is not the message's fault"
            assert await db.handled.count_documents({}) == 2
        finally:
            await broker.stop()
            await client.close()
