"""API tokens of the public API: made random, signed, shown once, stored only as a hash.

A token is ``cht_`` + 43 characters (32 random bytes, url-safe base64) + 22 characters
(the first 16 bytes of HMAC-SHA256 of the random part under the gateway's token key).
Only the gateway can make a token that passes ``signed``; anything else (a guess, a typo,
a token of another system) is refused without asking the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_PREFIX = "cht_"
_SECRET_CHARS = 43  # 32 bytes, url-safe base64 without padding
_MAC_BYTES = 16
_MAC_CHARS = 22  # 16 bytes, url-safe base64 without padding
TOKEN_LENGTH = len(TOKEN_PREFIX) + _SECRET_CHARS + _MAC_CHARS
#: Size of a token key, bytes.
KEY_BYTES = 32


def new_key() -> bytes:
    """A fresh token key (kept in the gateway's database; see ``WorkspaceStore``)."""
    return secrets.token_bytes(KEY_BYTES)


def _mac(secret: str, key: bytes) -> str:
    digest = hmac.new(key, secret.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_token(key: bytes) -> str:
    """A fresh API token signed with ``key`` (shown once; only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    return TOKEN_PREFIX + secret + _mac(secret, key)


def signed(token: str, key: bytes) -> bool:
    """Whether ``token`` has the shape of our tokens and a signature made with ``key``
    (constant time in the signature; no database involved)."""
    if len(token) != TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return False
    body = token[len(TOKEN_PREFIX):]
    if not body.isascii():  # compare_digest takes ASCII text only
        return False
    secret, mac = body[:_SECRET_CHARS], body[_SECRET_CHARS:]
    return hmac.compare_digest(_mac(secret, key), mac)


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are 256-bit random, so a fast hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Compare a presented token with a stored hash in constant time."""
    return hmac.compare_digest(hash_token(token), stored_hash)


def new_token_id() -> str:
    """The public id of a token (listing and revoking it; never enough to use it)."""
    return "tok_" + secrets.token_hex(8)
