"""The per-token rate limit of the public API: a fixed window per key, in memory."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class RateDecision:
    """Outcome of one request against its token's window."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int


@dataclass
class FixedWindowLimiter:
    """At most ``limit`` requests per token per ``window_s`` seconds (one gateway process).

    Kept in memory: with several gateway replicas each enforces its own share;
    a shared store (Redis) would be the next step if exact global limits matter.
    """

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
