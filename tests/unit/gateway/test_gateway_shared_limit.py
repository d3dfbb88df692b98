"""The rate limit shared by gateway replicas: each counts locally, flushes its counts (and
what it may admit before its next flush, its claim) to one shared document per token and
window, and between flushes admits at most its share of what nobody counted or claimed;
windows are aligned on the wall clock. The shared store here is a dict."""

from __future__ import annotations

from collections.abc import Mapping

from services.gateway.rate_limit import SharedWindowLimiter, WindowTotals


class SharedCounts:
    """One window document per token and window, like ``store.RateWindows``."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, int]] = {}
        self.claims: dict[str, dict[str, int]] = {}
        self.calls = 0
        self.fail = False

    async def add(
        self, counts: Mapping[str, tuple[int, int]], *, replica: str, expires_at: float
    ) -> dict[str, WindowTotals]:
        self.calls += 1
        if self.fail:
            raise ConnectionError("database away")
        for doc, (n, claim) in counts.items():
            by = self.docs.setdefault(doc, {})
            by[replica] = by.get(replica, 0) + n
            self.claims.setdefault(doc, {})[replica] = claim
        return {doc: WindowTotals(total=sum(self.docs[doc].values()),
                                  counted=dict(self.docs[doc]), claims=dict(self.claims[doc]))
                for doc in counts}


def replicas(count: int, *, limit: int = 100, window_s: float = 1.0
             ) -> tuple[SharedCounts, list[SharedWindowLimiter]]:
    shared = SharedCounts()
    return shared, [SharedWindowLimiter(limit, window_s, counts=shared, replica=f"gw{i}")
                    for i in range(count)]


def admitted(limiter: SharedWindowLimiter, count: int, *, now: float, key: str = "t") -> int:
    return sum(limiter.hit(key, now=now).allowed for _ in range(count))


async def flush_all(limiters: list[SharedWindowLimiter], *, now: float) -> None:
    for limiter in limiters:
        await limiter.flush(now=now)


async def test_alone_it_admits_the_limit_per_window_and_says_what_is_left() -> None:
    shared, (gw,) = replicas(1, limit=5)
    decisions = [gw.hit("t", now=10.2) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert decisions[-1].retry_after_s == 1
    await gw.flush(now=10.3)
    assert shared.docs == {"t:10": {"gw0": 5}}
    assert not gw.hit("t", now=10.99).allowed
    assert gw.hit("t", now=11.0).allowed, "windows are aligned: a new one at 11.0"


async def test_retry_after_is_the_rest_of_the_aligned_window() -> None:
    _, (gw,) = replicas(1, limit=1, window_s=60.0)
    assert gw.hit("t", now=1000.0).allowed  # window [960, 1020)
    refused = gw.hit("t", now=1010.5)
    assert not refused.allowed and refused.retry_after_s == 10
    assert gw.hit("t", now=1020.0).allowed


async def traffic(limiters: list[SharedWindowLimiter], per_step: list[int], *, window: int,
                  key: str = "t") -> list[int]:
    """One window of steady traffic: each 100 ms, ``per_step[i]`` requests to replica i, then
    every replica flushes; what each admitted."""
    got = [0] * len(limiters)
    for step in range(10):
        at = window + step / 10 + 0.01
        for i, limiter in enumerate(limiters):
            got[i] += admitted(limiter, per_step[i], now=at, key=key)
        for limiter in limiters:
            await limiter.flush(now=at + 0.05)
    return got


async def test_two_replicas_together_stay_within_the_limit() -> None:
    shared, (a, b) = replicas(2, limit=100)
    # A token's first window: each replica assumes it is alone until its flushes tell it
    # otherwise, so the window may admit more than the limit (at most 2 x 100)…
    first = await traffic([a, b], [50, 50], window=0)
    assert 100 <= sum(first) <= 200
    # …after which both know there are two: never more than the limit, however hard both
    # are pushed, in bursts or steadily.
    for window in (1, 2, 3):
        assert sum(await traffic([a, b], [50, 50], window=window)) == 100
        assert sum(shared.docs[f"t:{window}"].values()) == 100
    burst = admitted(a, 80, now=4.01) + admitted(b, 80, now=4.01)
    assert burst == 100, "at the start of a window each has its share, half the limit"
    for step in range(1, 10):
        await flush_all([a, b], now=4.01 + step / 10)
        burst += admitted(a, 80, now=4.01 + step / 10) + admitted(b, 80, now=4.01 + step / 10)
    assert burst == 100


async def test_shares_follow_the_traffic_and_use_nearly_the_whole_limit() -> None:
    _, (a, b) = replicas(2, limit=100)
    # In the token's first window each replica starts alone (it may refuse a little while
    # it learns of the other); after that nothing under the limit is refused.
    assert sum(await traffic([a, b], [3, 3], window=0)) >= 45
    assert await traffic([a, b], [3, 3], window=1) == [30, 30]
    for window in (2, 3):
        uneven = await traffic([a, b], [15, 5], window=window)
        assert 85 <= sum(uneven) <= 100, uneven
        assert uneven[0] > 50, "the busier replica gets more than half"
        overloaded = await traffic([a, b], [10, 10], window=window + 2)
        assert 85 <= sum(overloaded) <= 100, overloaded


async def test_three_replicas_stay_within_the_limit() -> None:
    _, gateways = replicas(3, limit=100)
    await traffic(gateways, [10, 10, 10], window=0)
    for window in (1, 2, 3):
        assert 85 <= sum(await traffic(gateways, [10, 10, 10], window=window)) <= 100
        assert sum(await traffic(gateways, [40, 0, 40], window=window + 3)) <= 100


async def test_a_replica_learns_what_the_others_counted_at_each_flush() -> None:
    shared, (a, b) = replicas(2, limit=100)
    assert admitted(a, 90, now=5.0) == 90  # a token's first window: one replica known
    await a.flush(now=5.1)
    assert admitted(b, 1, now=5.1) == 1
    await b.flush(now=5.2)  # B learns A's 90 and A's claim on the rest
    for at in (5.3, 5.4, 5.5, 5.6):
        admitted(b, 50, now=at)
        admitted(a, 50, now=at)
        await flush_all([a, b], now=at + 0.05)
    # B's one request came before it knew of A (a first window); after that, nothing more.
    assert shared.docs["t:5"] == {"gw0": 100, "gw1": 1}


async def test_one_replica_serving_a_token_alone_gets_the_whole_limit() -> None:
    shared, (a, b) = replicas(2, limit=100)
    assert admitted(b, 1, now=0.5, key="other") == 1  # B is busy with another token
    await flush_all([a, b], now=0.6)
    for window in (2, 3):
        assert await traffic([a, b], [15, 0], window=window) == [100, 0]
    assert admitted(a, 100, now=4.01) == 100, "a burst of the whole limit at once"
    assert admitted(a, 1, now=5.01) == 1
    await a.flush(now=5.05)
    await a.flush(now=5.15)
    assert admitted(a, 120, now=5.2) == 99, "a burst after a quiet flush: the rest, at once"


async def test_one_write_per_flush_not_per_request() -> None:
    shared, (a,) = replicas(1, limit=1000)
    for key in ("t1", "t2", "t3"):
        admitted(a, 100, now=0.0, key=key)
    await a.flush(now=0.1)  # one write for the three tokens
    await a.flush(now=0.2)  # nothing new: no write
    assert shared.calls == 1
    assert {doc: sum(by.values()) for doc, by in shared.docs.items()} == {
        "t1:0": 100, "t2:0": 100, "t3:0": 100}


async def test_without_the_database_it_limits_alone() -> None:
    shared, (a,) = replicas(1, limit=10)
    shared.fail = True
    assert admitted(a, 6, now=0.0) == 6
    await a.flush(now=0.1)
    assert admitted(a, 10, now=0.2) == 4
    shared.fail = False
    await a.flush(now=0.3)
    assert admitted(a, 10, now=1.0) == 10, "a new window"
