"""Prometheus metrics, request ids and the ``/health`` + ``/metrics`` routes of every process."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

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

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        sent = request.headers.get("x-request-id", "")
        rid = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:  # answered here, so the crash keeps its request id
            log.exception("unhandled error")
            response = error_response(500, "internal error; X-Request-ID names it in the logs")
        finally:
            request_id_var.reset(token)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_LATENCY.labels(service, request.method, path, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        response.headers["X-Request-ID"] = rid
        return response


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

    @router.get("/metrics", tags=["operations"])
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
