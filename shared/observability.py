"""Prometheus metrics, request ids and the ``/health`` + ``/metrics`` routes of every process."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import error_response
from shared.logs import request_id_var

log = logging.getLogger(__name__)
#: A caller's request id is kept when it is short and plain; otherwise we make our own.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

MESSAGES_HANDLED = Counter(
    "contacthub_messages_handled_total",
    "Kafka messages handled, by outcome (ok, duplicate, dlq)",
    ["service", "topic", "type", "outcome"],
)
HANDLER_LATENCY = Histogram(
    "contacthub_handler_seconds", "Time to handle one Kafka message", ["service", "topic"]
)
OUTBOX_BACKLOG = Gauge(
    "contacthub_outbox_backlog", "Outbox messages committed but not yet published", ["service"]
)
OUTBOX_PUBLISHED = Counter(
    "contacthub_outbox_published_total", "Outbox messages published to Kafka", ["service"]
)
HTTP_LATENCY = Histogram(
    "contacthub_http_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
)

#: A check returns None when healthy and raises (any exception) when not.
HealthCheck = Callable[[], Awaitable[None]]


def install_http_observability(app: FastAPI, *, service: str) -> None:
    """Give every request an id (``X-Request-ID``, kept if the caller sent one) and time it."""
    app.add_middleware(RequestObservation, service=service)


class RequestObservation:
    """Plain ASGI middleware (no per-request task or body copy, unlike ``BaseHTTPMiddleware``):
    the request id in the logging context and on the answer, the latency histogram, and a
    ``{code, message}`` 500 that keeps its request id when the app crashes."""

    def __init__(self, app: ASGIApp, *, service: str):
        self._app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        sent = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"),
                    "")
        rid = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                message["headers"] = [*message.get("headers", ()),
                                      (b"x-request-id", rid.encode())]
            await send(message)

        token = request_id_var.set(rid)
        try:
            await self._app(scope, receive, send_with_id)
        except Exception:  # answered here, so the crash keeps its request id
            log.exception("unhandled error")
            if answered:
                raise
            response = error_response(500, "internal error; X-Request-ID names it in the logs")
            response.headers["X-Request-ID"] = rid
            await response(scope, receive, send)
            status = 500
        finally:
            request_id_var.reset(token)
            route = scope.get("route")
            HTTP_LATENCY.labels(
                self._service, scope["method"], getattr(route, "path", "unmatched"), str(status)
            ).observe(time.perf_counter() - started)


def health_router(checks: dict[str, HealthCheck]) -> APIRouter:
    """``GET /health`` (200 when every check passes, else 503 naming the failing ones) and
    ``GET /metrics`` (Prometheus text format)."""
    router = APIRouter()

    @router.get("/health", tags=["operations"])
    async def health() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # a health check reports, it never raises
                results[name] = f"down: {type(exc).__name__}: {exc}"[:300]
        healthy = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": results},
            status_code=200 if healthy else 503,
        )

    @router.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
