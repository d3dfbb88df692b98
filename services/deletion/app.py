"""Wiring of the `deletion` service.

deletion jobs: bulk deletion in batches (behaviour arrives with the deletion issue).
Until then the service runs the full skeleton: it starts, answers
`/health`, joins its consumer group on `contacts.events.v1` and records every
event it has consumed (idempotency records), so the topology runs from day one.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.client_session import AsyncClientSession

from services.deletion.settings import DeletionSettings
from shared.consuming import register_consumer
from shared.contracts import Envelope
from shared.service import Runtime, create_service_app

log = logging.getLogger(__name__)


async def observe_contact_event(envelope: Envelope[Any], session: AsyncClientSession) -> None:
    """Nothing to apply yet: the event is recorded as processed and logged."""
    log.debug("observed %s for %s", envelope.type, envelope.subject)


def build_app(settings: DeletionSettings | None = None) -> FastAPI:
    """The deletion service's app; `settings` overrides the environment (tests)."""
    settings = settings or DeletionSettings()  # type: ignore[call-arg]

    def consumers(rt: Runtime) -> None:
        register_consumer(
            rt.broker, service=settings.service_name, settings=settings, client=rt.client,
            db=rt.db, topic=settings.topics.contacts_events, group_id=settings.service_name,
            handler=observe_contact_event,
        )

    return create_service_app(
        settings=settings, title="contacthub deletion", setup_consumers=consumers
    )
