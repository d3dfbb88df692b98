"""Authentication, workspace scoping, role checks and rate limiting of every ``/v2`` call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from prometheus_client import Counter
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.rate_limit import Limiter, RateDecision
from services.gateway.store import WorkspaceStore
from services.gateway.tokens import hash_token, signed
from services.gateway.upstream import Services
from services.gateway.users import UserDirectory
from shared.errors import ApiError
from shared.internal import Caller

#: How long a token → caller lookup is cached by default (a token revoked elsewhere keeps
#: working at most this long in a gateway process that has it cached).
TOKEN_CACHE_S = 10.0
#: How long a signed token the database does not know (revoked) is refused without a lookup.
UNKNOWN_CACHE_S = 60.0
_CACHE_MAX = 100_000
#: ``WWW-Authenticate`` of a 401 (RFC 6750): no usable token, or a token that is not valid.
CHALLENGE = 'Bearer realm="contacthub"'
INVALID_TOKEN = CHALLENGE + ', error="invalid_token"'

AUTH_REFUSED = Counter(
    "contacthub_gateway_auth_refused_total",
    "Calls refused with 401, by reason (missing, malformed, unsigned, unknown)",
    ["reason"],
)


@dataclass
class Gateway:
    """What the gateway's routes depend on, built once in the lifespan."""

    store: WorkspaceStore
    services: Services
    limiter: Limiter
    #: Largest request body the gateway reads, bytes (413 beyond).
    max_body_bytes: int = 1_048_576
    #: Wall clock (the rate limit's windows are aligned on it across replicas).
    clock: Callable[[], float] = time.time
    #: The key API tokens are signed with; a token without its signature is refused without
    #: a lookup. None: every token is looked up (tests with fake stores).
    token_key: bytes | None = None
    #: The gateway's public base URL (the ``next`` / ``previous`` links of its own lists).
    public_url: str = ""
    token_cache_s: float = TOKEN_CACHE_S
    unknown_cache_s: float = UNKNOWN_CACHE_S
    _token_cache: dict[str, tuple[float, Caller]] = field(default_factory=dict)
    _unknown: dict[str, float] = field(default_factory=dict)
    _directory: UserDirectory | None = None

    @property
    def users(self) -> UserDirectory:
        """The workspaces' users, cached in this process (assignees)."""
        if self._directory is None:
            self._directory = UserDirectory(source=self.store, clock=self.clock,
                                            ttl_s=self.token_cache_s)
        return self._directory

    async def caller_for(self, token: str, digest: str | None = None) -> Caller | None:
        """The caller a token stands for: from the cache (no I/O), else refused at once when
        unsigned or known to be unknown, else looked up (once per cache period)."""
        digest = digest or hash_token(token)
        now = self.clock()
        hit = self._token_cache.get(digest)
        if hit is not None and now - hit[0] < self.token_cache_s:
            return hit[1]
        if self.token_key is not None and not signed(token, self.token_key):
            AUTH_REFUSED.labels("unsigned").inc()
            return None
        seen = self._unknown.get(digest)
        if seen is not None and now - seen < self.unknown_cache_s:
            AUTH_REFUSED.labels("unknown").inc()
            return None
        caller = await self.store.caller_for_token(token)
        if caller is None:
            AUTH_REFUSED.labels("unknown").inc()
            if len(self._unknown) >= _CACHE_MAX:
                self._unknown.clear()
            self._unknown[digest] = now
        else:
            if len(self._token_cache) >= _CACHE_MAX:
                self._token_cache.clear()
            self._token_cache[digest] = (now, caller)
        return caller

    def forget(self, digest: str) -> None:
        """Drop a token (by hash) from this process's cache: revoked here, refused at once."""
        self._token_cache.pop(digest, None)


def _unauthorized(message: str, *, reason: str) -> ApiError:
    AUTH_REFUSED.labels(reason).inc()
    return ApiError(401, message, headers={"WWW-Authenticate": CHALLENGE})


async def authenticated(request: Request, gateway: Gateway, authorization: str | None) -> Caller:
    """The caller behind ``Authorization: Bearer <token>``, within its rate limit; else 401/429.

    A valid token in the cache costs a hash and two dict lookups; a token that is not ours
    (no valid signature) costs a hash and an HMAC, never a database lookup."""
    if not authorization:
        raise _unauthorized("Authorization header is missing; send 'Authorization: Bearer "
                            "<token>'", reason="missing")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Authorization header must be 'Bearer <token>'", reason="malformed")
    digest = hash_token(token)
    caller = await gateway.caller_for(token, digest)
    if caller is None:
        raise ApiError(401, "the API token is not valid",
                       headers={"WWW-Authenticate": INVALID_TOKEN})
    decision = gateway.limiter.hit(digest, now=gateway.clock())
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
