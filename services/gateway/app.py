"""Wiring of the gateway: public ``/v2`` API, auth, rate limits, calls to the services."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.gateway.auth import Gateway, install_rate_limit_headers
from services.gateway.methods import install_method_not_allowed
from services.gateway.rate_limit import FixedWindowLimiter, SharedWindowLimiter
from services.gateway.routes import channels, contacts, space, tokens, users
from services.gateway.routing import register
from services.gateway.settings import GatewaySettings
from services.gateway.store import RateWindows, WorkspaceStore
from services.gateway.upstream import Services
from services.gateway.webhooks import install_webhooks
from shared.errors import install_error_handlers
from shared.mongo import make_mongo_client
from shared.observability import HealthCheck, health_router, install_http_observability
from shared.retention import sweep_forever
from shared.topology import BACKENDS

#: The services behind the gateway; /health checks each.
SERVICES = tuple(s.name for s in BACKENDS)


def build_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The gateway app; ``settings`` overrides the environment (tests)."""
    settings = settings or GatewaySettings()  # type: ignore[call-arg]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = make_mongo_client(settings, app_name="gateway")
        db = client[settings.mongo_database]
        store, windows = WorkspaceStore(db), RateWindows(db)
        await store.ensure_indexes()
        await windows.ensure_indexes()
        services = Services(settings)
        limiter = SharedWindowLimiter(
            settings.rate_limit_requests, settings.rate_limit_window_s, counts=windows,
            replica="gw_" + secrets.token_hex(6),
        )
        gateway = Gateway(
            store=store,
            services=services,
            limiter=limiter,
            max_body_bytes=settings.max_body_bytes,
            token_key=await store.token_key(),
            token_cache_s=settings.token_cache_s,
            public_url=settings.public_url,
            unknown_cache_s=settings.token_unknown_cache_s,
        )
        app.state.gateway = gateway
        app.state.mongo = db
        background = [
            asyncio.create_task(
                limiter.run(every_s=settings.rate_limit_flush_s, clock=gateway.clock)
            ),
            asyncio.create_task(
                sweep_forever(db, [RateWindows.EXPIRY], every_s=settings.retention_sweep_s)
            ),
        ]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.close()
            await client.close()

    app = FastAPI(
        title="contacthub public API",
        version="2",
        description="Contacts of an omnichannel messaging workspace, in the shape of "
        "respond.io's Developer API v2. Authenticate with `Authorization: Bearer <token>`.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_method_not_allowed(app)
    install_rate_limit_headers(app)
    install_http_observability(app, service="gateway")

    async def mongo_ok() -> None:
        await app.state.mongo.command("ping")

    checks: dict[str, HealthCheck] = {"mongodb": mongo_ok}
    for name in SERVICES:
        checks[name] = _service_check(app, name)
    app.include_router(health_router(checks))
    register(app, contacts.ROUTES, tag="contacts")
    register(app, space.ROUTES, tag="workspace")
    register(app, channels.ROUTES, tag="channels")
    install_webhooks(app, limiter=FixedWindowLimiter(settings.webhook_rate_limit_requests,
                                                     settings.webhook_rate_limit_window_s))
    app.include_router(users.router)
    app.include_router(tokens.router)
    return app


def _service_check(app: FastAPI, name: str) -> HealthCheck:
    async def check() -> None:
        gateway: Gateway = app.state.gateway
        await gateway.services.health(name)

    return check
