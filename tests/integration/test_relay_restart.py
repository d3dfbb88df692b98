"""Crash recovery is prompt: a relay process killed with SIGKILL mid-burst and restarted as the
same replica publishes every committed event within 2 s of the restart, long before the dead
process's lease (10 s) would have expired; a live holder is never taken over.

The relay runs in its own OS process (``tests.support.relay_process``) with ``--instance``
(``shared.replica``: the services pass ``ReplicaIdentity.of_service(...)``). The figure is
printed (run with ``-s`` to see it).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.contracts.envelope import utcnow
from shared.mongo import Document
from shared.outbox import LEASES, OutboxRelay, ensure_outbox_indexes
from shared.replica import ReplicaIdentity
from tests.fixtures.stack import JointFixture
from tests.integration.test_outbox_relay import create_topic, eventually, uid
from tests.integration.test_outbox_stream import client_of, commit
from tests.support.arrivals import Arrivals

#: The promise: every committed event on the topic within this long after the restart.
PROMPT_S = 2.0
LEASE_S = 10.0


@pytest.fixture
async def producer(servers: JointFixture) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh producing database on the test server, dropped afterwards."""
    client = client_of(servers.mongo_url)
    db = client[f"test_relay_restart_{uid()}"]
    await ensure_outbox_indexes(db)
    yield db
    await client.drop_database(db.name)
    await client.close()


class RelayProcess:
    """``tests.support.relay_process`` as replica ``instance``; ``started_at``: the monotonic
    time its producer was connected (from its own clock, which is the same clock)."""

    def __init__(self, servers: JointFixture, db: str, *, instance: str, tmp: Path, name: str):
        self._args = [
            sys.executable, "-m", "tests.support.relay_process", "--mongo-url",
            servers.mongo_url, "--db", db, "--bootstrap", servers.kafka_bootstrap,
            "--lease-s", str(LEASE_S), "--client-id", f"relay-{name}", "--instance", instance,
            "--started", str(tmp / f"{name}.started"),
        ]
        self._started = tmp / f"{name}.started"
        self._log = tmp / f"{name}.log"
        self._repo = servers.config.repo_root
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned_at = 0.0

    async def spawn(self) -> RelayProcess:
        with self._log.open("wb") as log:
            self.spawned_at = time.monotonic()
            self.proc = await asyncio.create_subprocess_exec(
                *self._args, cwd=self._repo, env={**os.environ, "PYTHONPATH": str(self._repo)},
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )
        return self

    async def started_at(self) -> float:
        async def written() -> bool:
            if self.proc is not None and self.proc.returncode is not None:
                pytest.fail(f"relay process exited: {self._log.read_text()}")
            return self._started.exists()

        await eventually(written, timeout_s=30, every_s=0.01, what="the relay process to start")
        at: float = json.loads(self._started.read_text())["monotonic"]
        return at

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            await asyncio.wait_for(self.proc.wait(), timeout=10)


async def test_a_killed_relay_restarted_as_the_same_replica_publishes_within_2_s(
    servers: JointFixture, producer: AsyncDatabase[Document], tmp_path: Path
) -> None:
    topic, instance = f"test.restart.{uid()}", f"contacts@replica-{uid()}"
    await create_topic(servers.kafka_bootstrap, topic)
    first = await RelayProcess(servers, producer.name, instance=instance, tmp=tmp_path,
                               name="first").spawn()
    second: RelayProcess | None = None
    try:
        async with Arrivals(servers.kafka_bootstrap, topic) as arrivals:
            await first.started_at()
            committed: list[str] = []
            versions: dict[int, int] = Counter()

            async def writer(contact_id: int, count: int) -> None:
                for _ in range(count):
                    versions[contact_id] += 1
                    committed.append(await commit(producer, topic, contact_id,
                                                  versions[contact_id]))

            # A burst from 4 writers; the relay is killed once part of it is on the topic.
            burst = asyncio.gather(*(writer(c, 60) for c in range(1, 5)))

            async def part_published() -> bool:
                return len(arrivals.first_seen) >= 40

            await eventually(part_published, timeout_s=30, what="part of the burst published")
            await first.kill()
            killed_at = time.monotonic()
            await burst
            lease = await producer[LEASES].find_one({"_id": "relay"})
            assert lease is not None and lease["instance"] == instance
            assert first.proc is not None and lease["pid"] == first.proc.pid
            pending = [i for i in committed if i not in arrivals.first_seen]
            assert pending, "the kill left committed events unpublished"

            second = await RelayProcess(servers, producer.name, instance=instance,
                                        tmp=tmp_path, name="second").spawn()
            restarted_at = time.monotonic()

            async def all_published() -> bool:
                return all(i in arrivals.first_seen for i in committed)

            await eventually(all_published, timeout_s=3 * LEASE_S, every_s=0.01,
                             what="every committed event on the topic")
            done = max(arrivals.first_seen[i] for i in committed)
            ready_at = await second.started_at()
            published_at_utc = utcnow()
    finally:
        await first.kill()
        if second is not None:
            await second.kill()

    from_spawn, from_ready = done - second.spawned_at, done - ready_at
    print(f"\nrelay restart: {len(committed)} events committed, {len(pending)} pending at the "
          f"kill; all on the topic {from_spawn:.2f} s after the restart was spawned "
          f"({from_ready:.2f} s after its producer was connected; kill to restart "
          f"{restarted_at - killed_at:.2f} s); lease would have expired "
          f"{(lease['expires_at'] - published_at_utc).total_seconds():.1f} s later; "
          f"{sum(n - 1 for n in arrivals.copies.values())} sent twice")
    assert from_spawn <= PROMPT_S, f"{from_spawn:.2f} s after the restart"
    assert published_at_utc < lease["expires_at"], "published before the dead lease expired"
    assert set(arrivals.copies) == set(committed), "every committed event, nothing else"


async def test_a_live_holder_is_never_taken_over(
    servers: JointFixture, producer: AsyncDatabase[Document], tmp_path: Path
) -> None:
    topic, instance = f"test.restart.{uid()}", f"contacts@replica-{uid()}"
    await create_topic(servers.kafka_bootstrap, topic)
    holder = await RelayProcess(servers, producer.name, instance=instance, tmp=tmp_path,
                                name="holder").spawn()
    relays: list[OutboxRelay] = []

    def relay(identity: ReplicaIdentity | None) -> OutboxRelay:
        made = OutboxRelay(producer, bootstrap_servers=servers.kafka_bootstrap,
                           client_id=f"relay-{uid()}", lease_s=LEASE_S, identity=identity)
        relays.append(made)
        return made

    try:
        await holder.started_at()
        await commit(producer, topic, 1, 1)

        async def held() -> bool:
            lease = await producer[LEASES].find_one({"_id": "relay"})
            return lease is not None and holder.proc is not None \
                and lease.get("pid") == holder.proc.pid

        await eventually(held, timeout_s=10, what="the relay process to hold the lease")
        same, other, anonymous = (relay(ReplicaIdentity(instance=instance)),
                                  relay(ReplicaIdentity(instance="contacts@elsewhere")),
                                  relay(None))
        for standby in (same, other, anonymous):
            await standby.start()
            # The same replica name, but its process lives: no takeover.
            assert await standby.publish_pending() == 0

        await holder.kill()
        await commit(producer, topic, 1, 2)
        # Another replica, or a relay without identity, waits the lease out ...
        assert await other.publish_pending() == 0
        assert await anonymous.publish_pending() == 0
        # ... the same replica proves the holder dead and takes over at once.
        assert await same.publish_pending() >= 1
        lease: Any = await producer[LEASES].find_one({"_id": "relay"})
        assert lease["pid"] == os.getpid() and lease["expires_at"] > utcnow()
        assert await other.publish_pending() == 0, "the new holder is live: respected"
    finally:
        await holder.kill()
        for made in relays:
            await made.stop()
