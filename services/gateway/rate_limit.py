"""The per-token rate limit of the public API: a fixed window per key, counted in memory
and shared between gateway replicas through a counter flushed every ~100 ms."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass
class RateDecision:
    """Outcome of one request against its token's window."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int


class Limiter(Protocol):
    """What the gateway asks of a rate limiter."""

    limit: int
    window_s: float

    def hit(self, key: str, *, now: float) -> RateDecision:
        """Count one request of ``key``; whether it may go on."""
        ...


@dataclass
class FixedWindowLimiter:
    """At most ``limit`` requests per key per ``window_s`` seconds, the window starting at
    the key's first request; one process alone (tests, and the shape ``SharedWindowLimiter``
    keeps)."""

    limit: int
    window_s: float
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def peek(self, key: str, *, now: float) -> int:
        """How many requests ``key`` has left in its current window, without counting one."""
        start, used = self._windows.get(key, (now, 0))
        return self.limit if now - start >= self.window_s else self.limit - used

    def hit(self, key: str, *, now: float) -> RateDecision:
        """Count one request of ``key`` at time ``now`` (seconds)."""
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self.window_s:
            start, used = now, 0
        if used >= self.limit:
            retry = max(1, math.ceil(start + self.window_s - now))
            return RateDecision(False, self.limit, 0, retry)
        used += 1
        self._windows[key] = (start, used)
        if len(self._windows) > 100_000:  # forget idle tokens, bounded memory
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self.window_s}
        return RateDecision(True, self.limit, self.limit - used, 0)


@dataclass(frozen=True)
class WindowTotals:
    """A shared window document as read back after a flush."""

    total: int
    #: Requests each replica has counted in this window.
    counted: Mapping[str, int]
    #: What each replica may still admit before its next flush (its published claim).
    claims: Mapping[str, int]


class WindowCounts(Protocol):
    """Where the gateway replicas add up their counts (``store.RateWindows``)."""

    async def add(
        self, counts: Mapping[str, tuple[int, int]], *, replica: str, expires_at: float
    ) -> dict[str, WindowTotals]:
        """Add each ``(count, claim)`` to its window (count added, claim set for
        ``replica``), then read every window back."""
        ...


@dataclass
class _Window:
    """One token's current window as this replica sees it."""

    window: int
    #: Replicas expected to serve the token (how many counted in its last window) and
    #: each one's share of the limit at the window's start.
    replicas: int
    initial: int
    budget: int
    #: Replicas that have counted in this window, as of the last flush.
    seen: int = 0
    #: The shared total at the last flush (this replica's flushed requests included).
    shared: int = 0
    #: Requests admitted here and not yet added to the shared total.
    pending: int = 0
    #: Requests admitted here since the last flush (at most ``budget``), and requests that
    #: wanted more than the budget (both make the next claim).
    since_flush: int = 0
    wanted: int = 0
    #: This replica's share of the room nobody had counted or claimed, at the last flush,
    #: and the claim it published then.
    room: int = -1
    claimed: int = 0


class SharedWindowLimiter:
    """At most ``limit`` requests per token per ``window_s`` seconds over every gateway
    replica, without a database write per request.

    Windows are aligned on the wall clock (window ``n`` is ``[n*window_s, (n+1)*window_s)``)
    so replicas agree on them. Each replica counts locally; ``flush`` (every ~100 ms) adds
    what it admitted to one shared document per token and window (``$inc``) and sets its
    *claim* there: what it may admit before its next flush, twice what it admitted or
    refused for want of room since the last flush (at least ``limit // (4 * replicas)``; a
    replica with no demand gives its claim back at its next flush). It reads back the
    total, who counted and their claims. Until its next flush it may then admit
    ``min(claim, (limit - total - others' claims) // replicas)``: the total plus every
    replica's claim never exceeds the limit. A token one replica serves alone gets the whole
    limit (alone, a replica admits up to the room, beyond its claim). At a window's start,
    before its first flush, a replica admits ``limit // replicas`` (replicas as counted in
    the token's last window), and a replica expected but not yet counted is assumed to hold
    that much. While a replica believes it is alone (a token's very first window in it, or
    until its next flush after another replica starts serving the token) the replicas may
    admit more than the limit for ~100 ms. Without a shared store (``counts`` None, or a
    flush that fails) a replica limits what it sees alone.
    """

    def __init__(self, limit: int, window_s: float, *, counts: WindowCounts | None = None,
                 replica: str = "local"):
        self.limit = limit
        self.window_s = window_s
        self.replica = replica
        self._counts = counts
        self._windows: dict[str, _Window] = {}

    def _least(self, state: _Window) -> int:
        """The smallest claim: ``limit // (4 * replicas)``."""
        return max(1, self.limit // (4 * max(state.replicas, state.seen, 1)))

    def _claim(self, state: _Window) -> int:
        """What this replica claims at a flush: twice its demand since the last flush,
        within its room, at least ``_least``."""
        room = state.budget if state.room < 0 else state.room
        demand = 2 * (state.since_flush + state.wanted)
        return max(self._least(state), min(demand, room))

    def hit(self, key: str, *, now: float) -> RateDecision:
        """Count one request of ``key`` at wall-clock time ``now`` (seconds); no I/O."""
        window = int(now // self.window_s)
        state = self._windows.get(key)
        if state is None or state.window != window:
            replicas = (state.seen or state.replicas) if state else 1
            share = self.limit // replicas
            state = _Window(window=window, replicas=replicas, initial=share, budget=share)
            self._windows[key] = state
            if len(self._windows) > 100_000:  # forget idle tokens, bounded memory
                self._windows = {k: v for k, v in self._windows.items() if v.window >= window}
        used = state.shared + state.pending
        if used >= self.limit:
            retry = max(1, math.ceil((window + 1) * self.window_s - now))
            return RateDecision(False, self.limit, 0, retry)
        if state.since_flush >= state.budget:  # this replica's share until the next flush
            state.wanted += 1
            return RateDecision(False, self.limit, 0, 1)
        state.pending += 1
        state.since_flush += 1
        return RateDecision(True, self.limit, self.limit - used - 1, 0)

    async def flush(self, *, now: float) -> None:
        """Add what this replica admitted since the last flush to the shared totals with its
        next claim; learn the totals, the replicas and their claims; set the next budgets."""
        batch: dict[str, tuple[_Window, int, int, int]] = {}
        for key, state in self._windows.items():
            if state.pending or state.wanted or state.claimed > self._least(state):
                claim = self._claim(state)  # with no demand: give back what it claimed
                batch[f"{key}:{state.window}"] = (state, state.pending, state.since_flush, claim)
                state.pending = state.wanted = 0
        if not batch:
            return
        totals: dict[str, WindowTotals] = {}
        if self._counts is not None:
            try:
                totals = await self._counts.add(
                    {doc: (pending, claim) for doc, (_, pending, _, claim) in batch.items()},
                    replica=self.replica, expires_at=now + 2 * self.window_s + 60,
                )
            except Exception:  # the database is away: limit alone until it is back
                log.warning("rate limit: flush to the shared counts failed", exc_info=True)
        for doc, (state, pending, since, claim) in batch.items():
            state.since_flush -= since
            read = totals.get(doc)
            if read is None:
                state.shared += pending
                state.budget = max(0, self.limit - state.shared - state.pending)
                continue
            state.shared = max(read.total, state.shared + pending)
            state.seen = len(read.counted)
            replicas = max(state.replicas, state.seen, 1)
            others = sum(c for r, c in read.claims.items() if r != self.replica)
            others += max(0, replicas - state.seen) * state.initial
            left = self.limit - state.shared - state.pending - others
            state.room = max(0, left) // replicas
            state.claimed = claim
            # Alone, a replica need not keep within its claim (nobody else relies on it).
            state.budget = state.room if replicas == 1 else min(claim, state.room)

    async def run(self, *, every_s: float, clock: Callable[[], float]) -> None:
        """Flush every ``every_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(every_s)
            await self.flush(now=clock())
