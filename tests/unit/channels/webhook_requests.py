"""Building provider webhook requests for the adapter tests: fixtures, channels, signatures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.channels.providers import ChannelKeys, RawWebhook
from services.channels.providers.bodies import hmac_sha256_hex
from shared.contracts.channels import Source

FIXTURES = Path(__file__).parents[2] / "fixtures" / "webhooks"


def fixture(name: str) -> bytes:
    """The raw bytes of ``tests/fixtures/webhooks/<name>``."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    """A JSON fixture, decoded (to be changed and re-encoded by a test)."""
    return json.loads(fixture(name))


def channel(source: Source, *, channel_id: int = 7, **fields: str) -> ChannelKeys:
    """A connected channel of workspace ``ws_1`` with the given connect fields."""
    return ChannelKeys(workspace_id="ws_1", channel_id=channel_id, source=source, fields=fields)


def request(body: bytes | str | dict[str, Any], *, headers: dict[str, str] | None = None,
            method: str = "POST", url: str = "https://hooks.example.com/webhooks/x/key",
            query: dict[str, str] | None = None) -> RawWebhook:
    """A webhook request as the intake hands it to an adapter (header names lower-cased)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return RawWebhook(method=method, url=url,
                      headers={k.lower(): v for k, v in (headers or {}).items()},
                      query=query or {}, body=body)


def meta_signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256`` as Meta computes it."""
    return "sha256=" + hmac_sha256_hex(secret, body)
