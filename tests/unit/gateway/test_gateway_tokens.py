"""API tokens: made random and signed, stored only as a hash, compared against the hash;
the gateway's token → caller cache built on those hashes, which refuses tokens it did not
sign (and signed tokens it knows are unknown) without a lookup."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from services.gateway.auth import TOKEN_CACHE_S, UNKNOWN_CACHE_S, Gateway
from services.gateway.rate_limit import FixedWindowLimiter
from services.gateway.tokens import (
    TOKEN_LENGTH,
    TOKEN_PREFIX,
    hash_token,
    new_key,
    new_token,
    signed,
    token_matches,
)
from shared.internal import Caller

KEY = new_key()


def new_token_() -> str:
    return new_token(KEY)


def test_new_tokens_are_prefixed_long_and_unique() -> None:
    tokens = {new_token_() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert token.startswith(TOKEN_PREFIX)
        assert len(token) == TOKEN_LENGTH >= len(TOKEN_PREFIX) + 43  # 32 random bytes + MAC
        assert token.isascii() and " " not in token


def test_only_tokens_signed_with_the_key_pass() -> None:
    token = new_token_()
    assert signed(token, KEY)
    assert not signed(token, new_key()), "another gateway's key"
    assert not signed(new_token(new_key()), KEY)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    body_flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for other in (flipped, body_flipped, token + "x", token[:-1], "x" + token[1:],
                  "", TOKEN_PREFIX, "cht_" + "a" * (TOKEN_LENGTH - 4), token.upper(),
                  token[:20] + "é" + token[21:], token[:20] + "\x00" + token[21:]):
        assert not signed(other, KEY), other


def test_the_hash_is_sha256_hex_and_never_the_token() -> None:
    token = new_token_()
    digest = hash_token(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert token not in digest
    assert hash_token(token) == digest, "stable: the stored hash finds the token again"
    assert hash_token(new_token_()) != digest


def test_token_matches_only_the_token_the_hash_was_made_of() -> None:
    token = new_token_()
    stored = hash_token(token)
    assert token_matches(token, stored)
    for other in (new_token_(), token + "x", token[:-1], token.upper(), "", " " + token):
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


def gateway_with(store: FakeStore, clock: Clock, *, key: bytes | None = KEY) -> Gateway:
    fake: Any = store  # the gateway only calls caller_for_token
    return Gateway(store=fake, services=None,  # type: ignore[arg-type]
                   limiter=FixedWindowLimiter(100, 1.0), clock=clock, token_key=key)


async def test_a_known_token_is_looked_up_once_per_cache_period() -> None:
    token = new_token_()
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


async def test_a_token_revoked_in_this_process_is_refused_at_once() -> None:
    token = new_token_()
    store, clock = FakeStore({token: Caller(workspace_id="ws_1", user_id="u", role="owner")}),\
        Clock()
    gateway = gateway_with(store, clock)
    assert await gateway.caller_for(token) is not None
    store.by_hash.clear()
    gateway.forget(hash_token(token))
    assert await gateway.caller_for(token) is None
    assert store.lookups == 2


async def test_tokens_the_gateway_did_not_sign_cost_no_lookup() -> None:
    store, clock = FakeStore({}), Clock()
    gateway = gateway_with(store, clock)
    guesses = [new_token(new_key()) for _ in range(200)] + ["cht_guess", "x" * 500, ""]
    for guess in guesses:
        assert await gateway.caller_for(guess) is None
    assert store.lookups == 0
    # Without a key (fakes), every token is looked up.
    unkeyed = gateway_with(store, clock, key=None)
    assert await unkeyed.caller_for("cht_guess") is None
    assert store.lookups == 1


async def test_a_signed_but_unknown_token_is_looked_up_once_per_unknown_period() -> None:
    revoked = new_token_()  # signed by us, no longer in the database
    store, clock = FakeStore({}), Clock()
    gateway = gateway_with(store, clock)
    for _ in range(50):
        assert await gateway.caller_for(revoked) is None
    assert store.lookups == 1
    clock.now = UNKNOWN_CACHE_S + 0.1
    assert await gateway.caller_for(revoked) is None
    assert store.lookups == 2


@pytest.mark.parametrize("cached", [True, False])
async def test_a_valid_token_works_whatever_came_before_it(cached: bool) -> None:
    token = new_token_()
    ann = Caller(workspace_id="ws_1", user_id="usr_1", role="agent")
    store, clock = FakeStore({token: ann}), Clock()
    gateway = gateway_with(store, clock)
    if cached:
        assert await gateway.caller_for(token) == ann
    for _ in range(1000):
        assert await gateway.caller_for(new_token(new_key())) is None
    clock.now = 30.0  # unused for 30 s: out of the cache
    assert await gateway.caller_for(token) == ann
    assert store.lookups == (2 if cached else 1)
