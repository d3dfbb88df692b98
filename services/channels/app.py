"""Wiring of the `channels` service: `bootstrap` (handlers and their dependencies) and the app.

The service owns the workspace channels and their webhook secrets, runs the webhook intake
(verified provider webhooks published on `channels.inbound.v1` by a producer started with the
app) and consumes that topic (messages on sender links) and the contacts events (a sender's
contact, a deleted contact's purge).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.channels.api import router
from services.channels.consumers import EVENTS_GROUP, INBOUND_GROUP, register_consumers
from services.channels.domain.errors import DomainError
from services.channels.handlers import Channels, Deps
from services.channels.handlers.repositories import (
    ChannelRepository,
    InboundPublisher,
    MessageRepository,
)
from services.channels.inbound import KafkaInboundPublisher
from services.channels.providers.base import Provider
from services.channels.settings import ChannelsSettings
from services.channels.store import ChannelStore, MessageStore
from shared.contracts.envelope import utcnow
from shared.errors import error_response
from shared.service import Runtime, create_service_app
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def installed_providers() -> dict[str, Provider]:
    """The provider adapters of `services.channels.providers`, by webhook path (none until
    they exist: every webhook is then a 404)."""
    found: Any = getattr(importlib.import_module("services.channels.providers"), "PROVIDERS",
                         None)
    if found is None:
        log.warning("no provider adapters (services.channels.providers.PROVIDERS) yet")
        return {}
    if isinstance(found, Mapping):
        return dict(found)
    return {provider.path: provider for provider in found}


def bootstrap(
    settings: ChannelsSettings,
    *,
    runtime: Runtime | None = None,
    uow: UnitOfWork | None = None,
    channels: ChannelRepository | None = None,
    messages: MessageRepository | None = None,
    publisher: InboundPublisher | None = None,
    providers: Mapping[str, Provider] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Channels:
    """Wire the handlers once: MongoDB from `runtime` for whatever is not overridden.

    Tests pass in-memory fakes for everything and no runtime.
    """

    def mongo() -> Runtime:
        if runtime is None:
            raise ValueError("bootstrap: give a runtime, or every dependency it would build")
        return runtime

    if publisher is None:
        raise ValueError("bootstrap: give the inbound publisher")
    deps = Deps(
        uow=uow if uow is not None else mongo().uow,
        channels=channels if channels is not None else ChannelStore(mongo().db),
        publisher=publisher,
        providers=providers if providers is not None else installed_providers(),
        inbound_topic=settings.topics.channels_inbound,
        messages=messages if messages is not None else MessageStore(mongo().db),
        commands_topic=settings.topics.contacts_commands,
        clock=clock or utcnow,
    )
    return Channels(deps)


def build_app(settings: ChannelsSettings | None = None) -> FastAPI:
    """The channels service's app; `settings` overrides the environment (tests)."""
    settings = settings or ChannelsSettings()  # type: ignore[call-arg]
    publisher = KafkaInboundPublisher(settings.kafka_bootstrap_servers,
                                      client_id=settings.service_name,
                                      timeout_s=settings.webhook_publish_timeout_s)
    background: list[asyncio.Task[None]] = []

    async def startup(rt: Runtime) -> None:
        await ChannelStore(rt.db).ensure_indexes()
        await MessageStore(rt.db).ensure_indexes()
        app.state.channels = bootstrap(settings, runtime=rt, publisher=publisher)
        background.append(asyncio.create_task(_connect(publisher), name="channels-intake"))

    def subscribers(rt: Runtime) -> None:
        channels: Channels = app.state.channels
        register_consumers(rt.broker, settings=settings, deps=channels.deps,
                           events_uow=rt.uow.for_consumer(EVENTS_GROUP),
                           inbound_uow=rt.uow.for_consumer(INBOUND_GROUP))

    app = create_service_app(
        settings=settings, title="contacthub channels", routers=[router], on_startup=startup,
        setup_consumers=subscribers,
    )
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            try:
                yield state
            finally:
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await publisher.stop()

    app.router.lifespan_context = lifespan

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc.status, exc.message)

    return app


async def _connect(publisher: KafkaInboundPublisher) -> None:
    """Start the intake's producer, retrying while the broker is away (webhooks answer 503
    until it is connected)."""
    for attempt in range(1, 10_000):
        try:
            await publisher.start()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("intake producer start failed (attempt %d): %r; retrying", attempt, exc)
            await asyncio.sleep(min(5.0, 0.5 * attempt))
        else:
            return
