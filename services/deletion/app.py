"""Wiring of the `deletion` service: it will own bulk deletion jobs (selection, cursor, progress).

No behaviour yet (it comes with the deletion issue). The service runs the full skeleton: it
starts, answers `/health`, joins its consumer group on the contacts events and records
what it consumed, so the topology runs from day one.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.deletion.settings import DeletionSettings
from shared.service import create_service_app, records_only


def build_app(settings: DeletionSettings | None = None) -> FastAPI:
    """The deletion service's app; `settings` overrides the environment (tests)."""
    settings = settings or DeletionSettings()  # type: ignore[call-arg]
    return create_service_app(
        settings=settings, title="contacthub deletion",
        setup_consumers=records_only(settings, topic=settings.topics.contacts_events),
    )
