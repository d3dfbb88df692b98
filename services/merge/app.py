"""Wiring of the `merge` service (duplicate index, suggestions, merge history).

No behaviour yet (it comes with the merge issue). The service runs the full skeleton: it
starts, answers `/health`, joins its consumer group on the contacts events and records
what it consumed, so the topology runs from day one.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.merge.settings import MergeSettings
from shared.service import create_service_app, records_only


def build_app(settings: MergeSettings | None = None) -> FastAPI:
    """The merge service's app; `settings` overrides the environment (tests)."""
    settings = settings or MergeSettings()  # type: ignore[call-arg]
    return create_service_app(
        settings=settings, title="contacthub merge",
        setup_consumers=records_only(settings, topic=settings.topics.contacts_events),
    )
