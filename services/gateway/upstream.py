"""Calls from the gateway to the services: a keep-alive pool per service, timeouts, clear
503s."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import Response

from services.gateway.http11 import Answer, ConnectionPool, UpstreamError, UpstreamTimeout
from services.gateway.settings import GatewaySettings
from shared.errors import ApiError
from shared.internal import INTERNAL_TOKEN_HEADER, Caller
from shared.logs import request_id_var
from shared.topology import BACKENDS
from shared.unit_of_work import IDEMPOTENCY_HEADER, check_idempotency_key

log = logging.getLogger(__name__)

#: Headers of a service's answer that the gateway passes on to the public caller.
PASSED_HEADERS = frozenset({
    "content-type", "content-disposition", "location", "x-identifier-matches",
    "x-identifier-resolution", "idempotent-replayed",
})  # fmt: skip
JSON_CONTENT = "application/json"
HEALTH_TIMEOUT_S = 2.0


def idempotency_header(received: Mapping[str, str]) -> dict[str, str] | None:
    """The caller's ``Idempotency-Key``, checked (1-255 printable ASCII characters, else
    400), as a header to forward to the owning service; None when the caller sent none."""
    value = received.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    try:
        return {IDEMPOTENCY_HEADER: check_idempotency_key(value)}
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc


class Services:
    """The internal HTTP APIs of the services, each behind its pool of connections."""

    def __init__(self, settings: GatewaySettings):
        self._settings = settings
        urls = settings.service_urls.model_dump()
        self._pools = {
            s.name: ConnectionPool(urls[s.name], timeout_s=settings.service_timeout_s)
            for s in BACKENDS
        }

    async def close(self) -> None:
        """Close the pools."""
        for pool in self._pools.values():
            await pool.close()

    async def call(
        self,
        service: str,
        method: str,
        target: str,
        *,
        caller: Caller,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Call ``service`` at ``target`` (path and query, already encoded) with a JSON
        ``content``; a service that is down or slow becomes a 503 with a clear message."""
        sent = caller.headers(self._settings.internal_token)
        if content is not None:
            sent["Content-Type"] = JSON_CONTENT
        return await self.send(service, method, target, headers={**sent, **(headers or {})},
                               content=content)

    async def send(self, service: str, method: str, target: str, *,
                   headers: Mapping[str, str], content: bytes | None = None) -> Answer:
        """Call ``service`` with the internal token and ``headers`` (no caller: the webhook
        intake); a service that is down or slow becomes a 503 with a clear message."""
        sent = {INTERNAL_TOKEN_HEADER: self._settings.internal_token,
                "X-Public-Url": self._settings.public_url}
        if (rid := request_id_var.get()) is not None:
            sent["X-Request-ID"] = rid
        sent.update(headers)
        try:
            return await self._pools[service].request(
                method, target, headers=sent, content=content
            )
        except UpstreamTimeout as exc:
            log.warning("%s service timed out: %s", service, exc)
            raise ApiError(503, f"the {service} service did not answer in time; retry later",
                           headers={"Retry-After": "1"}) from exc
        except UpstreamError as exc:
            log.warning("%s service unreachable: %s", service, exc)
            raise ApiError(503, f"the {service} service is unavailable; retry later",
                           headers={"Retry-After": "1"}) from exc
        except ValueError as exc:
            raise ApiError(400, "the request holds a character that cannot be forwarded"
                           ) from exc

    async def health(self, service: str) -> None:
        """Raise unless the service answers its health check."""
        answer = await self._pools[service].request(
            "GET", "/health", headers={}, timeout_s=HEALTH_TIMEOUT_S
        )
        if answer.status_code != 200:
            raise ConnectionError(f"{service} health {answer.status_code}")

    async def forward(
        self,
        service: str,
        method: str,
        target: str,
        *,
        caller: Caller,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Call a service and hand its answer (status, body, content type) to the caller."""
        answer = await self.call(
            service, method, target, caller=caller, content=content, headers=headers
        )
        return answer_of(service, answer)


def answer_of(service: str, answer: Answer) -> Response:
    """The public answer for a service's answer: its status, body and passed headers; a crash
    without a JSON body or a refused internal token becomes a 502."""
    if answer.status_code >= 500 and "json" not in answer.headers.get("content-type", ""):
        raise ApiError(502, f"the {service} service failed; retry later")
    if answer.status_code == 401:  # the internal token is wrong: our fault, not the caller's
        log.error("%s service refused the internal token", service)
        raise ApiError(502, f"the {service} service refused the gateway; retry later")
    passed = {k: v for k, v in answer.headers.items() if k in PASSED_HEADERS}
    return Response(content=answer.content, status_code=answer.status_code, headers=passed)
