"""API tokens: made random, stored only as a hash, compared against the hash; and the
gateway's short token → caller cache built on those hashes."""

from __future__ import annotations

import hashlib
from typing import Any

from services.gateway.auth import TOKEN_CACHE_S, Gateway
from services.gateway.rate_limit import FixedWindowLimiter
from services.gateway.tokens import TOKEN_PREFIX, hash_token, new_token, token_matches
from shared.internal import Caller


def test_new_tokens_are_prefixed_long_and_unique() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert token.startswith(TOKEN_PREFIX)
        assert len(token) >= len(TOKEN_PREFIX) + 43  # 32 random bytes, url-safe base64
        assert token.isascii() and " " not in token


def test_the_hash_is_sha256_hex_and_never_the_token() -> None:
    token = new_token()
    digest = hash_token(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert token not in digest
    assert hash_token(token) == digest, "stable: the stored hash finds the token again"
    assert hash_token(new_token()) != digest


def test_token_matches_only_the_token_the_hash_was_made_of() -> None:
    token = new_token()
    stored = hash_token(token)
    assert token_matches(token, stored)
    for other in (new_token(), token + "x", token[:-1], token.upper(), "", " " + token):
        assert not token_matches(other, stored), other
    assert not token_matches(token, stored.upper()), "hex digests compare exactly"
    assert not token_matches(token, "")
    assert not token_matches(token, stored[:-1])
    assert not token_matches(token, token), "the raw token is not its own hash"


class FakeStore:
    """Answers token lookups from a dict of hashes, counting the lookups."""

    def __init__(self, callers: dict[str, Caller]):
        self.by_hash = {hash_token(t): c for t, c in callers.items()}
        self.lookups = 0

    async def caller_for_token(self, token: str) -> Caller | None:
        self.lookups += 1
        return self.by_hash.get(hash_token(token))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def gateway_with(store: FakeStore, clock: Clock) -> Gateway:
    fake: Any = store  # the gateway only calls caller_for_token
    return Gateway(store=fake, services=None,  # type: ignore[arg-type]
                   limiter=FixedWindowLimiter(100, 1.0), clock=clock)


async def test_a_known_token_is_looked_up_once_per_cache_period() -> None:
    token = new_token()
    ann = Caller(workspace_id="ws_1", user_id="usr_1", role="agent")
    store, clock = FakeStore({token: ann}), Clock()
    gateway = gateway_with(store, clock)

    assert await gateway.caller_for(token) == ann
    clock.now = TOKEN_CACHE_S - 0.1
    assert await gateway.caller_for(token) == ann
    assert store.lookups == 1
    clock.now = TOKEN_CACHE_S + 0.1  # a revoked token stops working after the cache period
    store.by_hash.clear()
    assert await gateway.caller_for(token) is None
    assert store.lookups == 2


async def test_an_unknown_token_is_never_cached() -> None:
    token = new_token()
    store, clock = FakeStore({}), Clock()
    gateway = gateway_with(store, clock)
    assert await gateway.caller_for(token) is None
    # The token gets issued a moment later: it works at once.
    bob = Caller(workspace_id="ws_2", user_id="usr_2", role="owner")
    store.by_hash[hash_token(token)] = bob
    assert await gateway.caller_for(token) == bob
    assert store.lookups == 2
