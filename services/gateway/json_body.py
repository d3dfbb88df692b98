"""The JSON the public API reads: RFC 8259 text the services can store, or a clear refusal.

Rules every body meets before it is forwarded (the services parse the same bytes again):

- nesting: at most ``MAX_DEPTH`` arrays and objects deep (400). Checked on the bytes before
  parsing, so a body nested thousands deep never reaches the recursive parser.
- numbers: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON, and a number beyond a 64-bit
  float (``1e999``) is not a number anyone can store (400).
- strings: a lone surrogate (``"\\ud800"``, or its raw UTF-8 bytes) is not Unicode text and
  cannot be stored as UTF-8 (422, naming where it is). Which control characters a text may
  hold depends on the field: the owning service decides that.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from shared.errors import ApiError

#: Arrays and objects one inside the other; the deepest body of the API needs about 8.
MAX_DEPTH = 64
#: A JSON string (its escapes included), to skip while counting brackets.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
#: What a lone surrogate can come from: a \uD800-\uDFFF escape, or its raw UTF-8 bytes.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def parse_json(raw: bytes) -> Any:
    """The parsed body; ``ApiError`` 400 for what is not JSON or too deep, 422 for a lone
    surrogate in a string."""
    if _deeper_than(raw, MAX_DEPTH):
        raise ApiError(400, f"body: nested deeper than {MAX_DEPTH} arrays and objects")
    try:
        parsed = json.loads(raw, parse_constant=_not_a_number, parse_float=_finite_float)
    except ValueError as exc:
        raise ApiError(400, f"body: not valid JSON ({exc.args[0]})") from exc
    if _MAYBE_SURROGATE.search(raw):
        _refuse_surrogates(parsed, where="")
    return parsed


def _deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the arrays and objects of ``raw`` nest more than ``limit`` deep (strings
    skipped; a body with fewer brackets than that is not scanned)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for found in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if found.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _not_a_number(literal: str) -> Any:
    raise ApiError(400, f"body: {literal} is not a JSON number (JSON has no NaN or infinities)")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ApiError(400, f"body: {literal[:40]} is beyond the range of a 64-bit float")
    return number


def _refuse_surrogates(node: Any, *, where: str) -> None:
    """Raise 422 at the first string (key or value) of ``node`` holding a lone surrogate;
    ``where`` is the path to it, the way the services name fields (``custom_fields[0].value``)."""
    if isinstance(node, str):
        _refuse_surrogate_in(node, where=where or "body", what="")
    elif isinstance(node, dict):
        for key, value in node.items():
            _refuse_surrogate_in(key, where=where or "body", what="the key ")
            _refuse_surrogates(value, where=f"{where}.{key}" if where else key)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _refuse_surrogates(item, where=f"{where or 'body'}[{index}]")


def _refuse_surrogate_in(text: str, *, where: str, what: str) -> None:
    if found := _SURROGATE.search(text):
        shown = json.dumps(text[:40])  # ASCII: the surrogate shows as its escape
        raise ApiError(
            422,
            f"{where}: {what}{shown} holds a lone surrogate (U+{ord(found.group()):04X}), "
            "which is not Unicode text",
        )
