"""The skeleton every back-end service runs in: one FastAPI app + one FastStream broker, one loop.

A service's ``app.py`` calls ``create_service_app`` with its settings, its
internal routers, a function that registers its subscribers and a start-up hook
that builds its dependencies. Clients are created in the lifespan, never at
import time, and ``/health`` + ``/metrics`` come for free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.consuming import one_by_one, register_batch_consumer
from shared.contracts import Envelope
from shared.errors import install_error_handlers
from shared.internal import require_internal_token
from shared.kafka import make_broker
from shared.logs import configure_logging
from shared.mongo import Document, make_mongo_client
from shared.observability import health_router, install_http_observability
from shared.outbox import OUTBOX_EXPIRY, Outbox, OutboxRelay, ensure_outbox_indexes
from shared.replica import ReplicaIdentity
from shared.retention import Expiry, ensure_expiry_indexes, sweep_forever
from shared.settings import ServiceSettings
from shared.unit_of_work import (
    UNIT_OF_WORK_EXPIRIES,
    MongoUnitOfWork,
    Transaction,
    ensure_unit_of_work_indexes,
)

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The live clients of one service process, built in its lifespan."""

    settings: ServiceSettings
    client: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    broker: KafkaBroker
    outbox: Outbox
    relay: OutboxRelay
    #: The service's unit of work (its database, its outbox); subscribers take
    #: ``uow.for_consumer(group)``.
    uow: MongoUnitOfWork
    #: Set once the broker and every subscriber have started (``/health`` says so until).
    broker_started: asyncio.Event = field(default_factory=asyncio.Event)
    #: What the service's start-up hook built (its stores and use cases), by name.
    deps: dict[str, Any] = field(default_factory=dict)
    #: What expires in the service's database (the start-up hook adds its own): swept by
    #: the process every ``retention_sweep_s`` (shared/retention.py).
    expiries: list[Expiry] = field(
        default_factory=lambda: [OUTBOX_EXPIRY, *UNIT_OF_WORK_EXPIRIES]
    )


RuntimeHook = Callable[[Runtime], Awaitable[None]]
ConsumerSetup = Callable[[Runtime], None]


def create_service_app(
    *,
    settings: ServiceSettings,
    title: str,
    routers: Sequence[APIRouter] = (),
    setup_consumers: ConsumerSetup | None = None,
    on_startup: RuntimeHook | None = None,
) -> FastAPI:
    """Build a service's app: internal routes behind the internal token, health, metrics."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = make_mongo_client(settings, app_name=settings.service_name)
        db = client[settings.mongo_database]
        broker = make_broker(settings, client_id=settings.service_name)
        relay = OutboxRelay(
            db,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=settings.service_name,
            poll_interval_s=settings.outbox_poll_interval_s,
            identity=ReplicaIdentity.of_service(settings.service_name, settings.instance_id),
        )
        outbox = Outbox(db, on_commit=relay.notify)
        runtime = Runtime(
            settings=settings, client=client, db=db, broker=broker, outbox=outbox, relay=relay,
            uow=MongoUnitOfWork(client, db, outbox),
        )
        app.state.runtime = runtime
        await ensure_outbox_indexes(db)
        await ensure_unit_of_work_indexes(db)
        if on_startup is not None:
            await on_startup(runtime)
        if setup_consumers is not None:
            setup_consumers(runtime)
        await ensure_expiry_indexes(db, runtime.expiries)
        sweeping = asyncio.create_task(
            sweep_forever(db, runtime.expiries, every_s=settings.retention_sweep_s),
            name=f"{settings.service_name}-retention",
        )
        # The relay first: after a crash, joining the consumer group waits for the dead
        # member's session to expire (10 s); the outbox must not wait for that too.
        await relay.start()
        relay_task = asyncio.create_task(relay.run(), name=f"{settings.service_name}-outbox-relay")
        # The broker in the background too: the HTTP API does not need it (events leave
        # through the relay), so a restarted process answers at once while its subscribers
        # rejoin their groups; /health reports Kafka down until they have.
        broker_task = asyncio.create_task(
            _start_broker(runtime), name=f"{settings.service_name}-broker-start"
        )
        try:
            log.info("%s started on %s:%s", settings.service_name, settings.http_host,
                     settings.http_port)
            yield
        finally:
            sweeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeping
            broker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await broker_task
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
            await relay.stop()
            with contextlib.suppress(Exception):
                await relay.release()
            await broker.stop()
            await client.close()

    app = FastAPI(title=title, lifespan=lifespan)
    install_error_handlers(app)
    install_http_observability(app, service=settings.service_name)

    async def mongo_ok() -> None:
        await get_runtime_from(app).db.command("ping")

    async def broker_ok() -> None:
        runtime = get_runtime_from(app)
        if not runtime.broker_started.is_set():
            raise ConnectionError("subscribers still starting (joining their consumer groups)")
        if not await runtime.broker.ping(timeout=2.0):
            raise ConnectionError("broker does not answer")

    app.include_router(health_router({"mongodb": mongo_ok, "kafka": broker_ok}))
    internal = [Depends(require_internal_token(settings.internal_token))]
    for router in routers:
        app.include_router(router, dependencies=internal)
    return app


async def _start_broker(runtime: Runtime) -> None:
    """Start the broker and its subscribers, retrying while the broker is away."""
    for attempt in range(1, 10_000):  # bounded; a broker away for hours is an outage
        try:
            await runtime.broker.start()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("broker start failed (attempt %d): %r; retrying", attempt, exc)
            await asyncio.sleep(min(5.0, 0.5 * attempt))
        else:
            runtime.broker_started.set()
            return


def get_runtime_from(app: FastAPI) -> Runtime:
    """The runtime of a started app."""
    runtime: Runtime = app.state.runtime
    return runtime


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service process in the foreground (``python -m services.<name>``)."""
    configure_logging(service=settings.service_name, level=settings.log_level)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def records_only(settings: ServiceSettings, *, topic: str) -> ConsumerSetup:
    """Subscribers of a service that has no behaviour on ``topic`` yet: it joins its group and
    records each message as processed (idempotency record), so the topology runs."""

    async def observe(envelope: Envelope[Any], tx: Transaction) -> None:
        log.debug("observed %s for %s", envelope.type, envelope.subject)

    def setup(rt: Runtime) -> None:
        group = settings.service_name
        register_batch_consumer(
            rt.broker, service=settings.service_name, settings=settings,
            uow=rt.uow.for_consumer(group), topic=topic, group_id=group,
            handler=one_by_one(observe),
        )

    return setup
