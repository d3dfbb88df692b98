"""Gateway rules without I/O: API tokens, roles, the per-token rate limit."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["owner", "manager", "agent"]
ROLES: tuple[Role, ...] = ("owner", "manager", "agent")
#: Roles that may delete contacts, remove channels, see merge history.
MANAGERS: tuple[Role, ...] = ("owner", "manager")

TOKEN_PREFIX = "cht_"


def new_token() -> str:
    """A fresh API token (shown once; only its hash is stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are 256-bit random, so a fast hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Compare a presented token with a stored hash in constant time."""
    return hmac.compare_digest(hash_token(token), stored_hash)


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
