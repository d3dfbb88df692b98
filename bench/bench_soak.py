"""Soak: minutes of mixed contact traffic through the gateway with every service consuming.

On the whole bench stack (every service, the gateway; fresh database), ``WORKSPACES``
workspaces created with the admin CLI, each filled first with ``PREFILL`` contacts (a used
store: written straight into the contacts database as the store writes them, tags and
languages spread like the load's; ``SOAK_PREFILL=0`` starts empty), ``CONCURRENCY``
workers on httpx keep-alive connections, each picking a workspace and an operation at
random (``MIX``: creates, reads, updates, tags, lists, block/unblock, deletes) until
``DURATION_S`` has passed. The store is
never reset: it grows by the creates minus the deletes.

Printed per window (60 s, or a third of a short run): operations/s overall and per kind,
p50/p99 latency (overall, creates, reads, lists), errors by status (5xx loudly; a 404 is
expected only for a contact deleted meanwhile), events published per second and the
consumer groups' largest lag. At the end: the lag of the consumer groups (``GROUPS``, on
``contacts.events.v1``) when the load stopped, how long until it was 0, the ratio of the
last window's throughput to the first's. Bounded everywhere: the run's length, the number
of operations, each request (30 s), the wait for the consumers (``LAG_WAIT_S``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from pymongo import MongoClient

from bench._common import (
    DEADLINE_S,
    GroupLag,
    LagProbe,
    bench_stack,
    cpu_seconds,
    http_client,
    percentile,
    record,
    say,
)
from deploy.local.stack import StackConfig, create_workspace
from shared import topology
from shared.settings import Topics

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
DURATION_S = min(3_600.0, max(30.0, float(os.environ.get("SOAK_SECONDS", "300")) * SCALE))
WINDOW_S = 60.0 if DURATION_S >= 180 else DURATION_S / 3
WINDOWS = max(1, round(DURATION_S / WINDOW_S))
#: Contacts per workspace before the load starts (what users live in is a used store).
PREFILL = max(0, int(int(os.environ.get("SOAK_PREFILL", "5000")) * SCALE))
CONCURRENCY = 8
WORKSPACES = 4
#: Operation kinds and their weights (percent).
MIX: dict[str, int] = {
    "create": 30, "read": 35, "update": 10, "tag": 8, "list": 7, "block": 5, "delete": 5,
}
#: A bound on the operations of a run, far above what the stack serves.
MAX_OPS = int(DURATION_S * 2_000)
#: Consumer groups reading the contacts' events (group id = service name).
GROUPS = (topology.CHANNELS.name, topology.MERGE.name, topology.DELETION.name)
LAG_WAIT_S = 60.0
#: The outbox relay counts as done once the topic's end offsets stayed still this long.
QUIET_S = 3.0
SAMPLE_EVERY_S = 5.0
TAGS = ("vip", "newsletter", "trial", "lead", "churn-risk", "partner", "b2b", "event-2026")
LANGUAGES = ("fr", "en", "es", "de")


@dataclass
class Space:
    """One workspace and what the load knows of it: live, blocked and deleted contact ids."""

    id: str
    owner: dict[str, str]
    agent: dict[str, str]
    live: list[int] = field(default_factory=list)
    where: dict[int, int] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    gone: set[int] = field(default_factory=set)

    def add(self, contact_id: int) -> None:
        """A contact now exists."""
        self.where[contact_id] = len(self.live)
        self.live.append(contact_id)

    def remove(self, contact_id: int) -> None:
        """A contact is being deleted: no operation picks it from now on."""
        at = self.where.pop(contact_id)
        last = self.live.pop()
        if last != contact_id:
            self.live[at] = last
            self.where[last] = at
        self.gone.add(contact_id)


@dataclass
class Window:
    """What completed in one window of the run."""

    ops: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[tuple[str, str, bool]] = field(default_factory=Counter)  # kind, status, ok?
    end_offsets: int | None = None
    max_lag: dict[str, int] = field(default_factory=dict)
    #: CPU seconds per process (and host) at the window's end, and the 1-min load average.
    cpu_at_end: dict[str, float] = field(default_factory=dict)
    load_at_end: float | None = None

    def latency_ms(self, kind: str | None, q: float) -> float:
        """Percentile of the successful requests of one kind (None: all), in ms."""
        values = (self.latencies.get(kind, []) if kind else
                  [v for vs in self.latencies.values() for v in vs])
        return percentile(sorted(values), q) * 1000


class Soak:
    """The run's clock, windows and counters."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.stop_at = self.started + DURATION_S
        self.stopped: float | None = None
        self.done = asyncio.Event()
        self.cpu_at_start = cpu_seconds()
        self.windows = [Window() for _ in range(WINDOWS)]
        self.issued = 0
        self.serial = 0

    def window(self, at: float) -> Window:
        """The window a moment falls in (the last one keeps answers after the stop)."""
        return self.windows[min(int((at - self.started) / WINDOW_S), WINDOWS - 1)]

    def note(self, kind: str, *, latency: float, status: str, expected: bool) -> None:
        """One completed operation; ``status`` '2xx' for a success."""
        window = self.window(time.perf_counter())
        window.ops[kind] += 1
        if status == "2xx":
            window.latencies.setdefault(kind, []).append(latency)
        else:
            window.errors[kind, status, expected] += 1

    def seconds(self, index: int) -> float:
        """Length of one window (the last one ends when the load stopped)."""
        end = self.stopped or time.perf_counter()
        return max(1e-9, min(end, self.started + (index + 1) * WINDOW_S)
                   - (self.started + index * WINDOW_S))


# ----------------------------------------------------------------- operations


async def operate(client: httpx.AsyncClient, soak: Soak, space: Space, kind: str,
                  rng: random.Random) -> None:
    """Make one request of ``kind`` in ``space`` and note its outcome."""
    if kind not in ("create", "list") and not space.live:
        kind = "create"  # nothing to act on yet
    contact_id = rng.choice(space.live) if kind not in ("create", "list") else 0
    path = f"/v2/contact/id:{contact_id}"
    started = time.perf_counter()
    try:
        if kind == "create":
            soak.serial += 1
            n = soak.serial
            body: dict[str, Any] = {"firstName": "Soak", "lastName": f"Contact {n}",
                                    "language": rng.choice(LANGUAGES)}
            if n % 2:
                body["email"] = f"soak{n}@example.com"
            answer = await client.post(f"/v2/contact/phone:+336{12000000 + n:08d}", json=body,
                                       headers=space.owner)
            if answer.status_code in (200, 201):
                space.add(int(answer.json()["contactId"]))
        elif kind == "read":
            answer = await client.get(path, headers=space.agent)
        elif kind == "update":
            answer = await client.put(path, headers=space.agent, json={
                "lastName": f"Contact {contact_id} v{rng.randint(2, 99)}",
                "language": rng.choice(LANGUAGES)})
        elif kind == "tag":
            answer = await client.post(f"{path}/tag", headers=space.agent,
                                       json=rng.sample(TAGS, rng.randint(1, 2)))
        elif kind == "list":
            answer = await client.post("/v2/contact/list", params={"limit": 20},
                                       headers=space.agent, json=list_query(soak, rng))
        elif kind == "block":
            unblock = contact_id in space.blocked
            answer = await client.post(f"{path}/{'unblock' if unblock else 'block'}",
                                       headers=space.agent)
            if answer.status_code == 200:
                (space.blocked.discard if unblock else space.blocked.add)(contact_id)
        else:
            space.remove(contact_id)
            answer = await client.delete(path, headers=space.owner)
    except httpx.HTTPError as exc:
        soak.note(kind, latency=0.0, status=type(exc).__name__, expected=False)
        return
    latency = time.perf_counter() - started
    if answer.status_code < 300:
        soak.note(kind, latency=latency, status="2xx", expected=True)
    else:  # a 404 is expected for a contact deleted meanwhile, nothing else is
        expected = answer.status_code == 404 and kind != "delete" and contact_id in space.gone
        soak.note(kind, latency=latency, status=str(answer.status_code), expected=expected)


def list_query(soak: Soak, rng: random.Random) -> dict[str, Any]:
    """A search by name, a tag filter or a field filter, in turns."""
    choice = rng.randrange(3)
    if choice == 0:
        return {"search": f"Contact {rng.randint(1, max(1, soak.serial))}"}
    if choice == 1:
        return {"filter": {"$and": [{"category": "contactTag", "field": "tags",
                                     "operator": "hasAnyOf", "value": [rng.choice(TAGS)]}]}}
    return {"filter": {"$and": [{"category": "contactField", "field": "language",
                                 "operator": "isEqualTo", "value": rng.choice(LANGUAGES)}]}}


async def worker(client: httpx.AsyncClient, soak: Soak, spaces: list[Space], seed: int) -> None:
    """Operations one after another until the run's time (or operation budget) is up."""
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    while time.perf_counter() < soak.stop_at and soak.issued < MAX_OPS:
        soak.issued += 1
        await operate(client, soak, rng.choice(spaces), rng.choices(kinds, weights)[0], rng)


async def sample_lag(probe: LagProbe, soak: Soak) -> None:
    """Every SAMPLE_EVERY_S while the load runs: events published, largest lag per group."""
    while soak.stopped is None and time.perf_counter() < soak.stop_at + DEADLINE_S:
        lags = await probe.lag(GROUPS)
        window = soak.window(time.perf_counter())
        window.end_offsets = sum(lags[0].end.values())
        for lag in lags:
            window.max_lag[lag.group] = max(window.max_lag.get(lag.group, 0), lag.total)
        # Woken by the stop, never cancelled mid-request: the probe is used after the load.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(soak.done.wait(), timeout=SAMPLE_EVERY_S)


async def mark_windows(soak: Soak) -> None:
    """At each window's end (or the stop): CPU seconds used so far and the load average."""
    for index, window in enumerate(soak.windows):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(soak.done.wait(), timeout=max(
                0.0, soak.started + (index + 1) * WINDOW_S - time.perf_counter()))
        window.cpu_at_end = cpu_seconds()
        window.load_at_end = round(os.getloadavg()[0], 2)


# ----------------------------------------------------------------- after the load


async def catch_up(probe: LagProbe, stopped: float) -> dict[str, Any]:
    """Lag when the load stopped, then poll until every group is at the end of a topic the
    relay no longer writes to (bounded by LAG_WAIT_S)."""
    at_stop = await probe.lag(GROUPS)
    ends = at_stop[0].end
    published_at = stopped
    caught: dict[str, float | None] = {lag.group: None for lag in at_stop}
    deadline = stopped + LAG_WAIT_S
    lags = at_stop
    while True:
        now = time.perf_counter()
        if lags[0].end != ends:
            ends, published_at = lags[0].end, now
        for lag in lags:
            if lag.total == 0:
                caught[lag.group] = caught[lag.group] or now
            else:
                caught[lag.group] = None
        done = all(caught.values()) and now - published_at >= QUIET_S
        if done or now > deadline:
            break
        await asyncio.sleep(0.25)
        lags = await probe.lag(GROUPS)
    return {
        "at_stop": at_stop,
        "final": lags,
        "published_after_stop": sum(ends.values()) - sum(at_stop[0].end.values()),
        "last_publish_s": published_at - stopped,
        "caught_up_s": {g: (t - stopped if t else None) for g, t in caught.items()},
    }


def contacts_in_store(cfg: StackConfig) -> int | None:
    """Contact documents in the contacts service's database (None if it can't say)."""
    client: MongoClient[dict[str, Any]] = MongoClient(cfg.mongo_url, serverSelectionTimeoutMS=5000)
    try:
        return client[topology.CONTACTS.database]["contacts"].count_documents({})
    except Exception:  # only a figure: never fail the run for it
        return None
    finally:
        client.close()


# ----------------------------------------------------------------- report


def errors_text(window: Window) -> str:
    """Errors of a window by status and kind; 5xx and transport errors loudly."""
    if not window.errors:
        return "none"
    parts = []
    for (kind, status, expected), n in sorted(window.errors.items()):
        loud = "" if expected else ("!!! " if not status.startswith("4") else "unexpected ")
        note = " (contact deleted meanwhile)" if expected else ""
        parts.append(f"{loud}{status} x{n} on {kind}{note}")
    return "; ".join(parts)


def say_window(soak: Soak, index: int) -> dict[str, Any]:
    """Print one window's lines; return its figures."""
    window, seconds = soak.windows[index], soak.seconds(index)
    start = index * WINDOW_S
    total = sum(window.ops.values())
    per_kind = {k: round(window.ops[k] / seconds, 1) for k in MIX}
    say(f"window {index + 1} ({start:.0f}-{start + seconds:.0f} s)",
        f"{total} ops = {total / seconds:.1f}/s ("
        + ", ".join(f"{k} {v:.1f}" for k, v in per_kind.items()) + ")")
    latency = {k or "all": (round(window.latency_ms(k, 50), 1), round(window.latency_ms(k, 99), 1))
               for k in (None, "create", "read", "list")}
    say("  p50/p99", ", ".join(f"{k} {p50:.0f}/{p99:.0f} ms" for k, (p50, p99) in latency.items()))
    say("  errors", errors_text(window))
    if window.max_lag:
        say("  consumer lag (largest sample)", ", ".join(f"{g} {n}" for g, n in
                                                         window.max_lag.items()))
    cpu = cpu_cores(soak, index)
    stack_cores = sum(v for k, v in cpu.items() if k != "other")
    # Work per CPU-second of our own processes: flat while CPU contention alone slows the run.
    per_cpu_s = total / seconds / stack_cores if stack_cores else None
    if cpu:
        say("  CPU used (cores)", ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
            + f"; load average {window.load_at_end}")
        say("  ops per CPU-second of the stack", f"{per_cpu_s:.1f} ({stack_cores:.2f} cores "
            "used by the stack and this client)")
    if any(e[1].startswith("5") or not e[1][0].isdigit() for e in window.errors):
        print("   !!!!! server errors in this window: see the errors line above !!!!!", flush=True)
    return {
        "window": index + 1, "seconds": round(seconds, 1), "ops": total,
        "ops_per_s": round(total / seconds, 2), "per_kind_per_s": per_kind,
        "p50_p99_ms": latency, "max_lag": window.max_lag, "cpu_cores": cpu,
        "ops_per_stack_cpu_s": per_cpu_s and round(per_cpu_s, 2),
        "loadavg_1m_at_end": window.load_at_end,
        "errors": {f"{kind} {status}" + ("" if ok else " unexpected"): n
                   for (kind, status, ok), n in window.errors.items()},
    }


def cpu_cores(soak: Soak, index: int) -> dict[str, float]:
    """CPU used in one window, in cores, per process of the stack; ``other`` is the rest of
    the host (other people's work)."""
    before = soak.windows[index - 1].cpu_at_end if index else soak.cpu_at_start
    after, seconds = soak.windows[index].cpu_at_end, soak.seconds(index)
    used = {k: (after[k] - before[k]) / seconds for k in after if k in before}
    if "host" in used:
        used["other"] = max(0.0, used.pop("host") - sum(used.values()))
    return {k: round(v, 2) for k, v in sorted(used.items(), key=lambda kv: -kv[1])}


def say_lag(name: str, lags: list[GroupLag]) -> None:
    """One line per group: total lag and committed/end per partition."""
    for lag in lags:
        say(f"  {name} {lag.group}", f"lag {lag.total} ({lag.partitions()})")


async def run(cfg: StackConfig, spaces: list[Space], *, first_serial: int = 0
              ) -> dict[str, Any]:
    """The load, the per-window figures, then the consumers' catch-up."""
    topic = Topics().contacts_events
    say("settings", f"{DURATION_S:.0f} s in {WINDOWS} windows of {WINDOW_S:.0f} s, "
        f"{CONCURRENCY} workers, {len(spaces)} workspaces, mix "
        + " ".join(f"{k} {w}%" for k, w in MIX.items()))
    async with LagProbe(cfg.kafka_bootstrap, topic) as probe, http_client(
        cfg.gateway_url, concurrency=CONCURRENCY
    ) as client:
        events_before = sum((await probe.end_offsets()).values())
        soak = Soak()
        soak.serial = first_serial  # names and phones of the load's creates follow the fill's
        sampler = asyncio.create_task(sample_lag(probe, soak))
        marker = asyncio.create_task(mark_windows(soak))
        try:
            await asyncio.wait_for(
                asyncio.gather(*(worker(client, soak, spaces, seed) for seed in
                                 range(CONCURRENCY))),
                timeout=DURATION_S + DEADLINE_S,
            )
        finally:
            soak.stopped = time.perf_counter()
            soak.done.set()
            await asyncio.wait_for(asyncio.gather(sampler, marker), timeout=DEADLINE_S)
        windows = [say_window(soak, i) for i in range(WINDOWS)]
        tail = await catch_up(probe, soak.stopped)
    return {"soak": soak, "windows": windows, "tail": tail, "events_before": events_before}


def summary(cfg: StackConfig, spaces: list[Space], result: dict[str, Any]) -> dict[str, Any]:
    """Print and return the run's end figures: totals, ratio, contacts, consumers' lag."""
    windows, tail, soak = result["windows"], result["tail"], result["soak"]
    ops = sum(w["ops"] for w in windows)
    elapsed = soak.stopped - soak.started
    ratio = windows[-1]["ops_per_s"] / windows[0]["ops_per_s"] if windows[0]["ops_per_s"] else 0
    errors: Counter[str] = Counter()
    for w in windows:
        errors.update(w["errors"])
    events = sum(tail["final"][0].end.values()) - result["events_before"]
    say("total", f"{ops} ops in {elapsed:.1f} s = {ops / elapsed:.1f}/s; {events} events "
        f"published ({events / elapsed:.1f}/s); errors {dict(errors) or 'none'}")
    say("last/first window throughput", f"{ratio:.2f} (target >= 0.9)")
    firsts, lasts = windows[0]["ops_per_stack_cpu_s"], windows[-1]["ops_per_stack_cpu_s"]
    cpu_ratio = round(lasts / firsts, 3) if firsts and lasts else None
    say("  same, per CPU-second of the stack", f"{cpu_ratio} (below 1: each operation "
        "costs more as the store grows; near 1: the CPU was taken by other work)")
    known = sum(len(s.live) for s in spaces)
    stored = contacts_in_store(cfg)
    say("contacts at the end", f"{known} live by the load's count, {stored} documents in the "
        "store (started from an empty store)")
    say_lag("at load stop", tail["at_stop"])
    say("  relay after the load stopped", f"{tail['published_after_stop']} events, the last "
        f"{tail['last_publish_s']:.2f} s after the stop")
    caught = tail["caught_up_s"]
    say("  lag 0 after the stop", ", ".join(
        f"{g} {t:.2f} s" if t is not None else f"{g} NOT within {LAG_WAIT_S:.0f} s"
        for g, t in caught.items()))
    slowest = max((t for t in caught.values() if t is not None), default=None)
    within = slowest is not None and None not in caught.values() and slowest <= 5.0
    behind_relay = None if slowest is None else slowest - tail["last_publish_s"]
    say("  consumers within 5 s of producer", f"{'yes' if within else 'NO'} (all caught up "
        + ("never" if slowest is None else f"{slowest:.2f} s after the load stopped, "
           f"{behind_relay:.2f} s after the last event was published") + ")")
    if any(t is None for t in caught.values()):
        say_lag("still behind", tail["final"])
    return {
        "duration_s": round(elapsed, 1), "window_s": WINDOW_S, "concurrency": CONCURRENCY,
        "workspaces": len(spaces), "mix_percent": MIX, "ops": ops,
        "ops_per_s": round(ops / elapsed, 2), "events_published": events,
        "last_over_first": round(ratio, 3), "last_over_first_per_stack_cpu_s": cpu_ratio,
        "errors": dict(errors), "windows": windows,
        "contacts_at_end": known, "contacts_in_store": stored,
        "lag_at_stop": {lag.group: lag.total for lag in tail["at_stop"]},
        "events_published_after_stop": tail["published_after_stop"],
        "last_publish_after_stop_s": round(tail["last_publish_s"], 2),
        "lag_zero_after_stop_s": {g: t and round(t, 2) for g, t in caught.items()},
        "consumers_within_5s": within,
    }


def prefill(cfg: StackConfig, spaces: list[Space], *, per_workspace: int) -> None:
    """Give each workspace ``per_workspace`` contacts named and numbered like the load's
    creates (``Contact n``, phone ``+336120…n``, half with an email, a language each, 30 %
    with a tag), stored as the contacts store stores them (``to_document``) with the id
    counter set after them. No events: the consumers start from the load's."""
    from services.contacts.domain.contact import Contact
    from services.contacts.store.documents import to_document
    from shared.contracts.envelope import utcnow

    rng = random.Random(7)
    client: MongoClient[dict[str, Any]] = MongoClient(cfg.mongo_url)
    db = client[topology.CONTACTS.database]
    with client:
        for space in spaces:
            docs = []
            for n in range(1, per_workspace + 1):
                now = utcnow()
                contact = Contact.model_validate({
                    "workspace_id": space.id, "id": n, "first_name": "Soak",
                    "last_name": f"Contact {n}", "phone": f"+336{12000000 + n:08d}",
                    "email": f"soak{n}@example.com" if n % 2 else None,
                    "language": rng.choice(LANGUAGES),
                    "tags": rng.sample(TAGS, 1) if rng.random() < 0.3 else [],
                    "created_at": now, "updated_at": now,
                })
                docs.append(to_document(contact))
                space.add(n)
            for at in range(0, len(docs), 1000):
                db.contacts.insert_many(docs[at:at + 1000], ordered=False)
            db.contact_counters.update_one({"_id": space.id},
                                           {"$max": {"last_id": per_workspace}}, upsert=True)


def main() -> None:
    """Whole bench stack, WORKSPACES workspaces, the soak, the figures."""
    with bench_stack(services=None) as cfg:
        spaces = []
        for i in range(WORKSPACES):
            made = create_workspace(cfg, f"soak-{i + 1}")
            tokens = made["tokens"]
            spaces.append(Space(made["workspace_id"],
                                owner={"Authorization": f"Bearer {tokens['owner']}"},
                                agent={"Authorization": f"Bearer {tokens['agent']}"}))
        if PREFILL:
            started = time.perf_counter()
            prefill(cfg, spaces, per_workspace=PREFILL)
            say("used store", f"{PREFILL} contacts in each of {len(spaces)} workspaces, "
                f"written in {time.perf_counter() - started:.1f}s before the load")
        result = asyncio.run(run(cfg, spaces, first_serial=PREFILL))
        figures = summary(cfg, spaces, result)
    record("soak", figures)
