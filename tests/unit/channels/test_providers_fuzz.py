"""Whatever the body, every adapter's parse answers events or a WebhookRefused(400), never
another exception (bodies are parsed after the signature, but a provider bug or a leaked
secret must still not turn into a 500)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.channels.providers import PROVIDERS, WebhookRefused
from tests.unit.channels.webhook_requests import channel, fixture_json, request

CHANNELS = {
    "whatsapp": channel("whatsapp_cloud", phoneNumberId="106540352242922"),
    "messenger": channel("facebook", pageId="112233445566778"),
    "sms": channel("twilio", phoneNumber="+15557654321"),
    "email": channel("gmail", address="support@acme.example"),
    "custom": channel("custom_channel", idType="phone"),
}
SEEDS = {"whatsapp": "whatsapp_location_interactive.json",
         "messenger": "messenger_attachments.json", "email": "email_reply.json",
         "custom": "custom_text.json"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)


def _answers_or_400(path: str, body: bytes) -> None:
    try:
        PROVIDERS[path].parse(request(body), CHANNELS[path])
    except WebhookRefused as refused:
        assert refused.status == 400


@given(st.binary(max_size=300), st.sampled_from(sorted(CHANNELS)))
def test_random_bytes(body: bytes, path: str) -> None:
    _answers_or_400(path, body)


def _mutate(document: Any, draw: st.DrawFn) -> Any:
    """Replace one value somewhere in a documented payload by a random JSON value."""
    if isinstance(document, dict) and document:
        key = draw(st.sampled_from(sorted(document)))
        return {**document, key: _mutate(document[key], draw)}
    if isinstance(document, list) and document:
        index = draw(st.integers(0, len(document) - 1))
        return [*document[:index], _mutate(document[index], draw), *document[index + 1:]]
    return draw(json_values)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(sorted(SEEDS)))
    return path, json.dumps(_mutate(fixture_json(SEEDS[path]), draw)).encode()


@given(mutated())
def test_documented_payloads_with_one_value_changed(case: tuple[str, bytes]) -> None:
    _answers_or_400(*case)
