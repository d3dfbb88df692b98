"""What the gateway refuses to read as JSON before forwarding a body (issue 7)."""

from __future__ import annotations

import json
import time

import pytest

from services.gateway.json_body import MAX_DEPTH, parse_json
from shared.errors import ApiError


def refused(raw: bytes) -> ApiError:
    """The ApiError ``parse_json`` raises for ``raw``."""
    with pytest.raises(ApiError) as caught:
        parse_json(raw)
    return caught.value


def test_nesting_beyond_the_limit_is_400_without_recursing() -> None:
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    for raw in (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
                b'{"firstName": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                b'{"a":' * 100_000, b"[" * 1_000_000):
        error = refused(raw)
        assert (error.code, error.message) == (
            400, f"body: nested deeper than {MAX_DEPTH} arrays and objects")
    started = time.perf_counter()
    refused(b"[" * 1_000_000)
    assert time.perf_counter() - started < 0.5


def test_brackets_inside_strings_are_no_nesting() -> None:
    text = '"[{\\' * 1000 + "[["
    assert parse_json(json.dumps({"a": text}).encode()) == {"a": text}


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e400"])
def test_numbers_json_has_not_are_400(literal: bytes) -> None:
    error = refused(b'{"value": ' + literal + b"}")
    assert error.code == 400 and literal.decode() in error.message


@pytest.mark.parametrize(("raw", "where"), [
    (b'{"firstName": "A\\ud800"}', "firstName"),
    (b'{"custom_fields": [{"name": "x", "value": "\\uDC00"}]}', "custom_fields[0].value"),
    (b'["vip", "\\udbff"]', "body[1]"),
    (b'{"\\ud800": 1}', "body"),
    (b'{"search": "A\xed\xa0\x80"}', "search"),  # the raw UTF-8 bytes of U+D800
])
def test_a_lone_surrogate_is_422_naming_where_it_is(raw: bytes, where: str) -> None:
    error = refused(raw)
    assert error.code == 422 and error.message.startswith(f"{where}: ")
    assert "lone surrogate" in error.message
    error.message.encode("utf-8")


def test_a_surrogate_pair_is_one_character() -> None:
    assert parse_json(b'{"firstName": "\\ud83d\\ude00"}') == {"firstName": "\U0001f600"}
