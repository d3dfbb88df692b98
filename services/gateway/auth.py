"""Authentication, workspace scoping, role checks and rate limiting of every ``/v2`` call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.rate_limit import FixedWindowLimiter, RateDecision
from services.gateway.store import WorkspaceStore
from services.gateway.tokens import hash_token
from services.gateway.upstream import Services
from shared.errors import ApiError
from shared.internal import Caller

#: How long a token → user lookup is cached (a revoked token keeps working at most this long).
TOKEN_CACHE_S = 10.0


@dataclass
class Gateway:
    """What the gateway's routes depend on, built once in the lifespan."""

    store: WorkspaceStore
    services: Services
    limiter: FixedWindowLimiter
    #: Unknown tokens per client address (each cost a lookup): past the limit, 429s instead.
    failures: FixedWindowLimiter = field(
        default_factory=lambda: FixedWindowLimiter(100, 60.0)
    )
    #: Largest request body the gateway reads, bytes (413 beyond).
    max_body_bytes: int = 1_048_576
    clock: Callable[[], float] = time.monotonic
    _token_cache: dict[str, tuple[float, Caller]] = field(default_factory=dict)

    def cached(self, token: str) -> Caller | None:
        """The caller of a token looked up less than ``TOKEN_CACHE_S`` ago, if any."""
        hit = self._token_cache.get(hash_token(token))
        if hit is not None and self.clock() - hit[0] < TOKEN_CACHE_S:
            return hit[1]
        return None

    async def caller_for(self, token: str) -> Caller | None:
        """The caller a token stands for, cached briefly."""
        if (known := self.cached(token)) is not None:
            return known
        key, now = hash_token(token), self.clock()
        caller = await self.store.caller_for_token(token)
        if caller is not None:
            if len(self._token_cache) > 10_000:
                self._token_cache.clear()
            self._token_cache[key] = (now, caller)
        return caller


async def authenticated(request: Request, gateway: Gateway, authorization: str | None) -> Caller:
    """The caller behind ``Authorization: Bearer <token>``, within its rate limit; else 401/429."""
    if not authorization:
        raise ApiError(401, "Authorization header is missing; send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "Authorization header must be 'Bearer <token>'")
    client = request.client.host if request.client else "unknown"
    if gateway.cached(token) is None and gateway.failures.peek(client, now=gateway.clock()) == 0:
        retry = int(gateway.failures.window_s)
        raise ApiError(429, "too many failed authentications from this address; retry later",
                       headers={"Retry-After": str(retry)})
    caller = await gateway.caller_for(token)
    if caller is None:
        gateway.failures.hit(client, now=gateway.clock())
        raise ApiError(401, "the API token is not valid")
    decision = gateway.limiter.hit(hash_token(token), now=gateway.clock())
    request.state.rate_limit = decision
    if not decision.allowed:
        raise ApiError(
            429,
            f"rate limit of {decision.limit} requests per "
            f"{gateway.limiter.window_s:g}s exceeded; retry after {decision.retry_after_s}s",
            headers={"Retry-After": str(decision.retry_after_s), **rate_headers(decision)},
        )
    return caller


def rate_headers(decision: RateDecision) -> dict[str, str]:
    """The X-RateLimit-* headers of a decision."""
    return {"X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": str(decision.remaining)}


class RateLimitHeaders:
    """ASGI middleware: the X-RateLimit-* headers on every answer to an authenticated call,
    errors included (a plain ASGI wrapper: no task, no stream per request)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the call on; add the headers when the answer starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision = scope.get("state", {}).get("rate_limit")
                if isinstance(decision, RateDecision):
                    headers = MutableHeaders(scope=message)
                    for name, value in rate_headers(decision).items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_rate_limit_headers(app: FastAPI) -> None:
    """Put the X-RateLimit-* headers on every answer to an authenticated call."""
    app.add_middleware(RateLimitHeaders)
