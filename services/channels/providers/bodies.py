"""Reading untrusted webhook bodies: every way a body can be wrong is a WebhookRefused(400).

The adapters read provider JSON and forms only through these helpers, so a body that is
not UTF-8, not JSON, nested too deep, carries huge numbers, NaN, keys MongoDB would refuse,
or ids with control characters is refused with a message naming the field, never with
another exception.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import ValidationError

from services.channels.providers.base import ChannelKeys, WebhookRefused

#: Largest body an adapter reads (a WhatsApp batch of statuses stays far below this).
MAX_BODY_BYTES = 1024 * 1024
#: Deepest JSON nesting accepted (WhatsApp's deepest documented path is ~8 levels).
MAX_DEPTH = 24
#: Longest integer literal accepted (epoch milliseconds have 13 digits).
MAX_INT_DIGITS = 20
#: Provider times outside this window are refused (a year 1970 or 3000 message is a bug).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

JsonObject = dict[str, Any]


def refuse(message: str) -> WebhookRefused:
    """A 400 naming what is wrong with the body."""
    return WebhookRefused(400, message)


def unauthorized(message: str) -> WebhookRefused:
    """A 401: the request is not proven to come from the provider."""
    return WebhookRefused(401, message)


def field(channel: ChannelKeys, name: str) -> str:
    """A connect field the adapter needs; a channel without it cannot take webhooks (401)."""
    value = channel.fields.get(name)
    if not value:
        raise unauthorized(f"channel {channel.channel_id} has no {name} configured")
    return value


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"number {text[:24]}... has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:24]} is out of range")
    return value


def _parse_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _check_tree(root: Any) -> None:
    """Depth and keys, walked without recursion (a deep body must not blow the stack)."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list) and depth > MAX_DEPTH:
            raise refuse(f"body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, value in node.items():
                if not key or key.startswith("$") or _CONTROL.search(key):
                    raise refuse(f"body has an invalid key {key[:40]!r}")
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)


def _text(body: bytes) -> str:
    if len(body) > MAX_BODY_BYTES:
        raise refuse(f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse("body is not UTF-8") from exc


def load_json(body: bytes) -> JsonObject:
    """The body as a JSON object, or a 400 saying why not."""
    text = _text(body)
    if not text.strip():
        raise refuse("body is empty: a JSON object is expected")
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=_parse_constant)
    except RecursionError as exc:
        raise refuse(f"body is nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # JSONDecodeError is a ValueError; so are our number checks
        raise refuse(f"body is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(value, dict):
        raise refuse(f"body must be a JSON object, not {type(value).__name__}")
    _check_tree(value)
    return value


def load_form(body: bytes) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body as (name, value) pairs, in order."""
    text = _text(body)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                          max_num_fields=1000)
    except ValueError as exc:
        raise refuse(f"body is not a form: {str(exc)[:200]}") from exc
    for name, _ in pairs:
        if not name or _CONTROL.search(name):
            raise refuse(f"form has an invalid parameter name {name[:40]!r}")
    return pairs


def at(obj: Any, key: str, where: str) -> Any:
    """``obj[key]`` of a JSON object, or a 400 naming ``where.key``."""
    if not isinstance(obj, dict):
        raise refuse(f"{where} must be an object")
    if key not in obj:
        raise refuse(f"{where}.{key} is missing")
    return obj[key]


def obj(value: Any, where: str) -> JsonObject:
    """A JSON object, or a 400."""
    if not isinstance(value, dict):
        raise refuse(f"{where} must be an object, not {type(value).__name__}")
    return value


def array(value: Any, where: str, *, limit: int = 1000) -> list[Any]:
    """A JSON array of at most ``limit`` items, or a 400."""
    if not isinstance(value, list):
        raise refuse(f"{where} must be an array, not {type(value).__name__}")
    if len(value) > limit:
        raise refuse(f"{where} has more than {limit} items")
    return value


def opt_array(container: JsonObject, key: str, where: str, *, limit: int = 1000) -> list[Any]:
    """An optional array member (absent or null → empty)."""
    value = container.get(key)
    return [] if value is None else array(value, f"{where}.{key}", limit=limit)


def text(value: Any, where: str, *, max_length: int = 4096, allow_empty: bool = False) -> str:
    """A string of free text (newlines and tabs allowed, NUL refused), or a 400."""
    if not isinstance(value, str):
        raise refuse(f"{where} must be a string, not {type(value).__name__}")
    if not value and not allow_empty:
        raise refuse(f"{where} must not be empty")
    if len(value) > max_length:
        raise refuse(f"{where} is longer than {max_length} characters")
    if "\x00" in value:
        raise refuse(f"{where} contains a NUL character")
    return value


def opt_text(container: JsonObject, key: str, where: str, *,
             max_length: int = 4096) -> str | None:
    """An optional free-text member: absent, null or empty → None."""
    value = container.get(key)
    if value is None or value == "":
        return None
    return text(value, f"{where}.{key}", max_length=max_length)


def ident(value: Any, where: str, *, max_length: int = 255,
          pattern: re.Pattern[str] | None = None) -> str:
    """An id (message id, sender id, page id): a non-empty string without control characters
    or surrounding spaces; numbers are taken as their decimal text (Meta sends some ids as
    numbers in older payloads)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str):
        raise refuse(f"{where} must be a string id, not {type(value).__name__}")
    if not value:
        raise refuse(f"{where} must not be empty")
    if len(value) > max_length:
        raise refuse(f"{where} is longer than {max_length} characters")
    if _CONTROL.search(value) or value != value.strip():
        raise refuse(f"{where} contains control characters or surrounding spaces")
    if pattern is not None and not pattern.fullmatch(value):
        raise refuse(f"{where} {value!r} is not a valid id here")
    return value


def number(value: Any, where: str, *, low: float, high: float) -> float:
    """A JSON number (or numeric string) within [low, high], or a 400."""
    if isinstance(value, str):
        try:
            value = _parse_float(value) if len(value) <= 32 else None
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refuse(f"{where} must be a number")
    if not low <= value <= high:
        raise refuse(f"{where} {value} is out of range [{low}, {high}]")
    return float(value)


def epoch(value: Any, where: str, *, milliseconds: bool = False) -> datetime:
    """Epoch seconds (or milliseconds), as an integer or a string of digits, → UTC datetime."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(f"{where} must be epoch {'milliseconds' if milliseconds else 'seconds'}")
    seconds = value / 1000 if milliseconds else value
    if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():
        raise refuse(f"{where} {value} is not a plausible time")
    return datetime.fromtimestamp(seconds, UTC)


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """A display name as (first name, last name): the first word, then the rest."""
    if not name or not name.strip():
        return None, None
    first, _, last = " ".join(name.split()).partition(" ")
    return first[:255], (last[:255] or None)


def hmac_sha256_hex(secret: str, payload: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of ``payload`` keyed by ``secret``."""
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def check_sha256_header(headers: Mapping[str, str], *, name: str, secret: str,
                        payload: bytes) -> None:
    """``<name>: sha256=<hex>`` must be the HMAC-SHA256 of ``payload`` (hex in either case,
    compared in constant time); anything else is a 401."""
    header = headers.get(name)
    if not header:
        raise unauthorized(f"{name} header is missing")
    scheme, sep, digest = header.strip().partition("=")
    if not sep or scheme != "sha256":
        raise unauthorized(f"{name} must be sha256=<hex HMAC-SHA256 of the body>")
    if not _HEX_SHA256.fullmatch(digest):
        raise unauthorized(f"{name} is not a 64-digit hex digest")
    expected = hmac_sha256_hex(secret, payload)
    if not hmac.compare_digest(expected.encode("ascii"), digest.lower().encode("ascii")):
        raise unauthorized(f"{name} does not match the body")


def check_verify_challenge(query: Mapping[str, str], *, verify_token: str) -> str:
    """Meta's GET verification (``hub.mode=subscribe``, ``hub.verify_token``,
    ``hub.challenge``): the challenge to answer, or a 403."""
    if query.get("hub.mode") != "subscribe":
        raise WebhookRefused(403, "hub.mode must be subscribe")
    token = query.get("hub.verify_token", "")
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        raise WebhookRefused(403, "hub.verify_token does not match the channel's verifyToken")
    challenge = query.get("hub.challenge", "")
    if not challenge or len(challenge) > 256 or _CONTROL.search(challenge):
        raise WebhookRefused(403, "hub.challenge is missing or invalid")
    return challenge


Clock = Callable[[], datetime]

Parse = TypeVar("Parse", bound=Callable[..., Any])


def refusing_invalid(parse: Parse) -> Parse:
    """Wrap an adapter's ``parse`` so a payload the contracts refuse (a value over a length
    limit the adapter did not check) is a 400 too, never a 500."""

    @wraps(parse)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(part) for part in first.get("loc", ()))
            raise refuse(f"{location}: {first.get('msg', 'invalid')}") from exc
        except RecursionError as exc:
            raise refuse(f"body is nested deeper than {MAX_DEPTH} levels") from exc

    return guarded  # type: ignore[return-value]


def utcnow() -> datetime:
    """The current time (UTC); adapters take it as an injectable clock."""
    return datetime.now(UTC)
