"""Wiring of the `channels` service (channels, contact links, conversations, MAC counts).

No behaviour yet (it comes with the channels issue). The service runs the full skeleton: it
starts, answers `/health`, joins its consumer group on the contacts events and records
what it consumed, so the topology runs from day one.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.channels.settings import ChannelsSettings
from shared.service import create_service_app, records_only


def build_app(settings: ChannelsSettings | None = None) -> FastAPI:
    """The channels service's app; `settings` overrides the environment (tests)."""
    settings = settings or ChannelsSettings()  # type: ignore[call-arg]
    return create_service_app(
        settings=settings, title="contacthub channels",
        setup_consumers=records_only(settings, topic=settings.topics.contacts_events),
    )
