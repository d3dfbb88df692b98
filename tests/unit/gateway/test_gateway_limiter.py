"""The per-token fixed-window rate limiter: how many requests a window lets through,
when the next window starts, and what Retry-After says in between."""

from __future__ import annotations

import pytest

from services.gateway.rate_limit import FixedWindowLimiter, RateDecision


def burst(limiter: FixedWindowLimiter, key: str, count: int, *, now: float) -> list[RateDecision]:
    """``count`` requests of ``key`` at the same instant."""
    return [limiter.hit(key, now=now) for _ in range(count)]


def test_a_window_lets_limit_requests_through_counting_down_the_remaining() -> None:
    limiter = FixedWindowLimiter(limit=5, window_s=1.0)
    decisions = burst(limiter, "t", 5, now=100.0)
    assert [d.allowed for d in decisions] == [True] * 5
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0]
    assert {d.limit for d in decisions} == {5}
    assert {d.retry_after_s for d in decisions} == {0}


def test_the_request_beyond_the_limit_is_refused_with_remaining_0_and_retry_after() -> None:
    limiter = FixedWindowLimiter(limit=3, window_s=1.0)
    burst(limiter, "t", 3, now=10.0)
    refused = limiter.hit("t", now=10.2)
    assert refused == RateDecision(allowed=False, limit=3, remaining=0, retry_after_s=1)


@pytest.mark.parametrize(
    ("refused_at", "retry_after"),
    [(0.0, 60), (0.5, 60), (10.2, 50), (58.999, 2), (59.0, 1), (59.9, 1), (59.9999, 1)],
)
def test_retry_after_is_the_rest_of_the_window_rounded_up_and_at_least_1(
    refused_at: float, retry_after: int
) -> None:
    limiter = FixedWindowLimiter(limit=1, window_s=60.0)
    assert limiter.hit("t", now=1000.0).allowed
    decision = limiter.hit("t", now=1000.0 + refused_at)
    assert not decision.allowed
    assert decision.retry_after_s == retry_after


def test_waiting_retry_after_seconds_is_enough() -> None:
    limiter = FixedWindowLimiter(limit=2, window_s=1.0)
    burst(limiter, "t", 2, now=5.3)
    refused = limiter.hit("t", now=5.9)
    assert not refused.allowed
    again = limiter.hit("t", now=5.9 + refused.retry_after_s)
    assert again.allowed and again.remaining == 1


def test_a_new_window_starts_once_the_window_has_passed_not_before() -> None:
    limiter = FixedWindowLimiter(limit=2, window_s=1.0)
    burst(limiter, "t", 2, now=0.0)
    assert not limiter.hit("t", now=0.999).allowed
    fresh = limiter.hit("t", now=1.0)
    assert fresh.allowed and fresh.remaining == 1
    assert limiter.hit("t", now=1.5).allowed
    assert not limiter.hit("t", now=1.9).allowed


def test_the_window_is_fixed_from_its_first_request_not_sliding() -> None:
    limiter = FixedWindowLimiter(limit=3, window_s=10.0)
    assert limiter.hit("t", now=0.0).allowed
    assert [d.allowed for d in burst(limiter, "t", 2, now=9.5)] == [True, True]
    # At t=10 the window that began at t=0 is over: three more, although two were at 9.5.
    assert [d.allowed for d in burst(limiter, "t", 4, now=10.0)] == [True, True, True, False]


def test_refused_requests_do_not_extend_the_window() -> None:
    limiter = FixedWindowLimiter(limit=1, window_s=1.0)
    assert limiter.hit("t", now=0.0).allowed
    for at in (0.1, 0.5, 0.9):
        assert not limiter.hit("t", now=at).allowed
    assert limiter.hit("t", now=1.0).allowed


def test_every_token_has_its_own_window() -> None:
    limiter = FixedWindowLimiter(limit=2, window_s=1.0)
    burst(limiter, "a", 2, now=0.0)
    assert not limiter.hit("a", now=0.1).allowed
    b = limiter.hit("b", now=0.1)
    assert b.allowed and b.remaining == 1


def test_many_idle_tokens_are_forgotten_without_changing_any_answer() -> None:
    limiter = FixedWindowLimiter(limit=1, window_s=1.0)
    for i in range(100_001):
        limiter.hit(f"idle-{i}", now=0.0)
    assert limiter.hit("busy", now=0.5).allowed
    assert not limiter.hit("busy", now=0.6).allowed
    # Long after: the idle windows are gone, the busy one still answers right.
    assert limiter.hit("idle-0", now=5.0).allowed
    assert limiter.hit("idle-1", now=5.0).allowed
    assert len(limiter._windows) < 100  # bounded memory: only recent windows are kept
