"""Shared plumbing of the benchmarks: the bench stack, HTTP load, topic counting, results.

The bench stack is a ``deploy.local.stack.StackConfig`` of its own (var/bench,
its own ports, a fresh database every run) so that a benchmark never touches
the development stack (var/, 9092/27017/8000) or the test stack (var/test).
Each benchmark starts what it needs and stops exactly that, by PID file, when
it ends (``bench_stack``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import time
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.local.stack import (
    REPO_ROOT,
    SERVICES,
    StackConfig,
    available_services,
    start_servers,
    start_services,
    stop_all,
    stop_named,
)
from shared import topology

BENCH_VAR = REPO_ROOT / "var" / "bench"
RESULTS = BENCH_VAR / "results.jsonl"

#: Ports of the bench profile: below the ephemeral range (32768+) and away from
#: the dev (8000/81xx/9092/27017) and test (18000/181xx/19092/27117) stacks.
BROKER_PORT = 29392
MONGO_PORT = 27317
GATEWAY_PORT = 28300
BARE_PORT = 28399
#: Each service's bench port: its development port + 20200 (contacts 28301…).
SERVICE_PORTS = {s.name: s.port + 20_200 for s in topology.BACKENDS} | {
    topology.GATEWAY.name: GATEWAY_PORT
}

#: Every bounded wait of the benchmarks gives up after this long.
DEADLINE_S = 90.0


def bench_config() -> StackConfig:
    """The bench stack: var/bench, its own ports, no practical per-token rate limit."""
    return StackConfig(
        var_dir=BENCH_VAR,
        broker_port=BROKER_PORT,
        mongo_port=MONGO_PORT,
        service_ports={s.name: SERVICE_PORTS[s.name] for s in SERVICES},
        extra_env={"GATEWAY_RATE_LIMIT_REQUESTS": "1000000"},
        startup_timeout_s=90.0,
    )


@contextlib.contextmanager
def bench_stack(services: Sequence[str] | None = ()) -> Iterator[StackConfig]:
    """Start the broker and a fresh database (and ``services``: None for every service
    whose code exists, gateway included), stop them all at the end.

    Leftovers of an earlier bench run that was killed (named by var/bench PID
    files) are stopped first, so the database really is fresh.
    """
    cfg = bench_config()
    say_machine()
    leftovers = stop_all(cfg)
    if leftovers:
        print(f"   stopped leftovers of an earlier bench run: {leftovers}", flush=True)
    names: list[str] = ["mongo", "broker"]
    started_at = time.perf_counter()
    try:
        start_servers(cfg, fresh_db=True)
        present = available_services(cfg, services)
        missing = sorted(set(services or ()) - set(present))
        if missing:
            raise RuntimeError(f"services without code: {', '.join(missing)}")
        if present:
            names = [*reversed(present), *names]
            start_services(cfg, present)
        print(
            f"   stack up in {time.perf_counter() - started_at:.1f}s: broker "
            f"{cfg.kafka_bootstrap}, mongo 127.0.0.1:{cfg.mongo_port}"
            + "".join(f", {n} :{cfg.service_ports[n]}" for n in present),
            flush=True,
        )
        yield cfg
    finally:
        stop_named(cfg, names)


# ----------------------------------------------------------------- figures


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


#: 1-minute load average seen before the last bench stack started (other work on the host).
_load_before: float | None = None


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy it was before the bench started."""
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_1m_before": _load_before,
    }


def say_machine() -> None:
    """Note and print the load before starting: other work on the host skews every figure."""
    global _load_before
    _load_before = round(os.getloadavg()[0], 2)
    say("machine", f"{os.cpu_count()} CPUs, load average {_load_before:.2f} before the stack "
        "started (client, servers and services all share these CPUs)")


def record(bench: str, figures: dict[str, Any]) -> None:
    """Append one JSON line of figures to var/bench/results.jsonl."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "bench": bench,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **machine(),
        **figures,
    }
    with RESULTS.open("a") as out:
        out.write(json.dumps(line) + "\n")
    print(f"   (appended to {RESULTS.relative_to(REPO_ROOT)})", flush=True)


def say(label: str, text: str) -> None:
    """One figure line, aligned."""
    print(f"   {label:<38} {text}", flush=True)


# ----------------------------------------------------------------- HTTP load


@dataclass
class LoadResult:
    """Outcome of a fixed number of requests made by a fixed number of workers."""

    count: int
    concurrency: int
    elapsed_s: float
    latencies_s: list[float]
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Successful requests per second, from the first start to the last answer."""
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def pct_ms(self, q: float) -> float:
        """Latency percentile of the successful requests, in milliseconds."""
        return percentile(sorted(self.latencies_s), q) * 1000

    def line(self) -> str:
        """`N req in Xs = R/s, p50 .. ms, p99 .. ms` (+ errors)."""
        text = (
            f"{len(self.latencies_s)} in {self.elapsed_s:.2f}s = {self.rate:,.0f}/s, "
            f"p50 {self.pct_ms(50):.1f} ms, p99 {self.pct_ms(99):.1f} ms, "
            f"max {self.pct_ms(100):.0f} ms"
        )
        if self.errors:
            text += f", ERRORS {self.errors}"
        return text

    def figures(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "count": self.count,
            "ok": len(self.latencies_s),
            "concurrency": self.concurrency,
            "elapsed_s": round(self.elapsed_s, 3),
            "per_s": round(self.rate, 1),
            "p50_ms": round(self.pct_ms(50), 2),
            "p99_ms": round(self.pct_ms(99), 2),
            "max_ms": round(self.pct_ms(100), 2),
            "errors": self.errors,
        }


async def http_load(
    client: httpx.AsyncClient,
    request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    *,
    count: int,
    concurrency: int,
    ok_status: Collection[int] = (200,),
) -> LoadResult:
    """Make ``count`` requests (``request(client, i)``, i = 0..count-1) with ``concurrency``
    workers; time each one and the whole run."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    next_index = iter(range(count))

    async def worker() -> None:
        for i in next_index:  # shared iterator: each index is taken once
            started = time.perf_counter()
            try:
                response = await request(client, i)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
                errors[key] = errors.get(key, 0) + 1
                continue
            if response.status_code in ok_status:
                latencies.append(time.perf_counter() - started)
            else:
                key = str(response.status_code)
                errors[key] = errors.get(key, 0) + 1

    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(worker() for _ in range(concurrency))), timeout=DEADLINE_S * 2
    )
    return LoadResult(count, concurrency, time.perf_counter() - started, latencies, errors)


def http_client(
    base_url: str, *, concurrency: int, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """A pooled client with one keep-alive connection per worker."""
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(30.0),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )


async def wait_http_ok(url: str, *, timeout_s: float = 30.0) -> None:
    """Poll ``url`` until it answers 200."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=1.0) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f}s")
            await asyncio.sleep(0.1)


# ----------------------------------------------------------------- Kafka


async def create_topic(bootstrap: str, topic: str, *, partitions: int) -> None:
    """Create one topic with the admin client (fails if it exists: bench topics are fresh)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=1)]
        )
    finally:
        await admin.close()


#: Says which records a ``TopicCounter`` counts: an identity (duplicates are counted once)
#: or None to ignore the record.
Accept = Callable[[ConsumerRecord[bytes, bytes]], Hashable | None]


def header(record: ConsumerRecord[bytes, bytes], name: str) -> bytes | None:
    """Value of one Kafka header of a record."""
    for key, value in record.headers:
        if key == name:
            return value
    return None


class TopicCounter:
    """Reads every partition of a topic (manual assignment, no consumer group) and notes
    when records arrive; ``wait`` returns when ``expected`` distinct records were seen."""

    def __init__(self, bootstrap: str, topic: str, *, accept: Accept, from_end: bool = False):
        self._bootstrap = bootstrap
        self._topic = topic
        self._accept = accept
        self._from_end = from_end
        self._consumer: AIOKafkaConsumer | None = None
        self.seen: set[Hashable] = set()
        self.records = 0
        self.duplicates = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    async def __aenter__(self) -> TopicCounter:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id="bench-counter",
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        try:
            partitions = None
            deadline = time.monotonic() + 10
            while not partitions and time.monotonic() < deadline:
                await consumer.topics()  # refreshes the metadata
                partitions = consumer.partitions_for_topic(self._topic)
                if not partitions:
                    await asyncio.sleep(0.1)
            if not partitions:
                raise RuntimeError(f"topic {self._topic} does not exist")
            assigned = [TopicPartition(self._topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            if self._from_end:
                await consumer.seek_to_end(*assigned)
            else:
                await consumer.seek_to_beginning(*assigned)
            for tp in assigned:  # resolve the positions now, not at the first fetch
                await consumer.position(tp)
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def wait(self, expected: int, *, timeout_s: float = DEADLINE_S) -> float:
        """Consume until ``expected`` distinct accepted records arrived; return the
        ``perf_counter`` time the last one arrived at. Raises TimeoutError."""
        assert self._consumer is not None
        deadline = time.monotonic() + timeout_s
        while len(self.seen) < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self._topic}: {len(self.seen)}/{expected} records after {timeout_s:.0f}s"
                )
            batches = await self._consumer.getmany(timeout_ms=200, max_records=10_000)
            now = time.perf_counter()
            for records in batches.values():
                for rec in records:
                    self.records += 1
                    identity = self._accept(rec)
                    if identity is None:
                        continue
                    if identity in self.seen:
                        self.duplicates += 1
                        continue
                    self.seen.add(identity)
                    if self.first_at is None:
                        self.first_at = now
                    self.last_at = now
        assert self.last_at is not None
        return self.last_at


# ----------------------------------------------------------------- consumer lag


@dataclass
class GroupLag:
    """One consumer group's committed offsets next to the topic's end offsets, per partition."""

    group: str
    committed: dict[int, int]
    end: dict[int, int]

    @property
    def total(self) -> int:
        """Records of the topic the group has not committed yet (no commit counts as 0)."""
        return sum(max(0, end - max(self.committed.get(p, 0), 0)) for p, end in self.end.items())

    def partitions(self) -> str:
        """`p0 12/12 p1 9/10 …`: committed/end of each partition."""
        return " ".join(
            f"p{p} {max(self.committed.get(p, 0), 0)}/{end}" for p, end in sorted(self.end.items())
        )


class LagProbe:
    """Reads a topic's end offsets and consumer groups' committed offsets without joining any
    group (admin OffsetFetch, consumer ListOffsets), so probing never moves a group."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []

    async def __aenter__(self) -> LagProbe:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap,
                                          client_id="bench-lag")
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap,
                                          client_id="bench-lag", enable_auto_commit=False)
        try:
            await self._admin.start()
            await self._consumer.start()
            deadline = time.monotonic() + 10
            while not self._partitions and time.monotonic() < deadline:
                await self._consumer.topics()  # refreshes the metadata
                found = self._consumer.partitions_for_topic(self._topic) or set()
                self._partitions = [TopicPartition(self._topic, p) for p in sorted(found)]
                if not self._partitions:
                    await asyncio.sleep(0.1)
            if not self._partitions:
                raise RuntimeError(f"topic {self._topic} does not exist")
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._admin is not None:
            await self._admin.close()

    async def end_offsets(self) -> dict[int, int]:
        """Offset of the next record of each partition (records published so far)."""
        assert self._consumer is not None
        ends = await self._consumer.end_offsets(self._partitions)
        return {tp.partition: offset for tp, offset in ends.items()}

    async def lag(self, groups: Sequence[str]) -> list[GroupLag]:
        """Each group's committed offsets against end offsets read just before them."""
        assert self._admin is not None
        end = await self.end_offsets()
        lags = []
        for group in groups:
            committed = await self._admin.list_consumer_group_offsets(
                group, partitions=self._partitions
            )
            lags.append(GroupLag(group, {tp.partition: meta.offset
                                         for tp, meta in committed.items()}, end))
        return lags


# ----------------------------------------------------------------- CPU use


def cpu_seconds(pid_dir: Path = BENCH_VAR / "pids") -> dict[str, float]:
    """CPU seconds (user + system) used so far by each process a PID file of ``pid_dir`` names,
    by this process (``client``) and by the whole host (``host``, every CPU)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    pids = {p.stem: p.read_text().strip() for p in pid_dir.glob("*.pid")}
    for name, pid in {**pids, "client": str(os.getpid())}.items():
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Fields after the command name (which may hold spaces): utime is the 12th.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) / tick
    with contextlib.suppress(OSError, ValueError):
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        used["host"] = (sum(values[:8]) - idle) / tick
    return used
