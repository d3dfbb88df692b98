"""Provider webhooks: ``GET|POST /webhooks/{whatsapp,messenger,sms,email,custom}/{key}``.

No bearer token: the provider's signature is the auth, and only the channels service holds
the secrets to check it. The gateway checks the key's shape (a 404 without a call when it
cannot be one), counts the call against the key's rate limit, and forwards the method, the
query, the raw body, the provider's headers (each as ``X-Provider-<name>``, so they never
mix with the internal ones) and the full public URL the provider called (``X-Webhook-Url``:
the gateway's ``public_url`` + path + query; Twilio signs it) to the channels service's
intake, whose answer it passes on.

Rate limit: per webhook key, per gateway process, fixed windows
(``GATEWAY_WEBHOOK_RATE_LIMIT_REQUESTS`` per ``GATEWAY_WEBHOOK_RATE_LIMIT_WINDOW_S``): a
provider's burst for one channel cannot starve the others, and no database write is made
per webhook (the API's per-token limit writes a shared counter every 100 ms; a webhook must
answer within milliseconds). With N replicas a key may get up to N times the limit.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import FastAPI, Path, Request, Response

from services.gateway.auth import Gateway
from services.gateway.rate_limit import FixedWindowLimiter
from services.gateway.routing import ERRORS
from shared.api.channels import WEBHOOK_KEY_PATTERN
from shared.errors import ApiError
from shared.topology import CHANNELS

WebhookPath = Literal["whatsapp", "messenger", "sms", "email", "custom"]
_KEY = re.compile(WEBHOOK_KEY_PATTERN)
#: Headers of the provider's request that are about this hop, not the webhook.
_HOP_HEADERS = frozenset({
    "host", "content-length", "connection", "keep-alive", "transfer-encoding", "te",
    "trailer", "upgrade", "proxy-authorization", "proxy-connection", "expect",
})  # fmt: skip
#: The intake marks its answers: a 401 without the mark is the internal token refused.
WEBHOOK_ANSWER_HEADER = "x-webhook-answer"
_PASSED = ("content-type", "retry-after")
NOT_CONNECTED = "webhook: no channel is connected at this URL"


def install_webhooks(app: FastAPI, *, limiter: FixedWindowLimiter) -> None:
    """Add the webhook routes (documented under ``webhooks``) to the gateway."""
    app.state.webhook_limiter = limiter
    for method, name, summary in (
        ("GET", "verify_webhook", "A provider's webhook verification (WhatsApp, Messenger)"),
        ("POST", "receive_webhook", "A provider's webhook (no bearer token: its signature)"),
    ):
        # One route per method: one operation id each in the OpenAPI document.
        app.add_api_route(
            "/webhooks/{provider}/{key}", receive_webhook, methods=[method], name=name,
            tags=["webhooks"], responses=ERRORS, response_class=Response, summary=summary,
            description="WhatsApp Cloud API and Messenger (`GET` verification, `POST` signed "
            "with `X-Hub-Signature-256`), Twilio SMS (form posts signed with "
            "`X-Twilio-Signature`), email (JSON signed with the channel's signing secret), "
            "custom channels (`Authorization: Bearer <apiToken>`). The URL is the channel's "
            "`webhookUrl`.",
        )


async def receive_webhook(
    request: Request,
    provider: WebhookPath = Path(description="The provider's webhook format"),
    key: str = Path(description="The channel's webhook key (from its `webhookUrl`)"),
) -> Response:
    """Forward a provider's webhook to the channels service's intake; its answer."""
    gateway: Gateway = request.app.state.gateway
    if not _KEY.fullmatch(key):
        raise ApiError(404, NOT_CONNECTED)
    limiter: FixedWindowLimiter = request.app.state.webhook_limiter
    decision = limiter.hit(key, now=gateway.clock())
    if not decision.allowed:
        raise ApiError(429, f"webhook: more than {decision.limit} calls per "
                       f"{limiter.window_s:g}s for this channel; retry after "
                       f"{decision.retry_after_s}s",
                       headers={"Retry-After": str(decision.retry_after_s)})
    body = await _body(request, limit=gateway.max_body_bytes)
    query = request.scope["query_string"].decode("latin-1")
    path = f"/webhooks/{provider}/{key}"
    target = f"{path}?{query}" if query else path
    headers = {f"X-Provider-{name}": value for name, value in request.headers.items()
               if name not in _HOP_HEADERS and not name.startswith("x-provider-")}
    headers["X-Webhook-Url"] = gateway.public_url.rstrip("/") + target
    if body:
        headers["Content-Type"] = "application/octet-stream"
    answer = await gateway.services.send(CHANNELS.name, request.method, target,
                                         headers=headers, content=body)
    marked = WEBHOOK_ANSWER_HEADER in answer.headers
    if not marked or (answer.status_code >= 500 and answer.status_code != 503):
        raise ApiError(502, "the channels service failed; retry later",
                       headers={"Retry-After": "1"})
    passed: dict[str, Any] = {k: v for k, v in answer.headers.items() if k in _PASSED}
    return Response(content=answer.content, status_code=answer.status_code, headers=passed)


async def _body(request: Request, *, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body: {declared} bytes is more than the {limit} accepted")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ApiError(413, f"body: more than the {limit} bytes accepted")
    return bytes(raw)
