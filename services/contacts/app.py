"""Wiring of the contacts service: stores, use cases, routes, the event contract."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.contacts.api import router
from services.contacts.domain.errors import DomainError
from services.contacts.handlers import ContactsService
from services.contacts.settings import ContactsSettings
from services.contacts.store import CatalogStore, ContactStore
from shared.contracts import Envelope
from shared.contracts.contacts import CONTACT_EVENTS
from shared.errors import error_response
from shared.service import Runtime, create_service_app


def build_app(settings: ContactsSettings | None = None) -> FastAPI:
    """The contacts service's app; `settings` overrides the environment (tests)."""
    settings = settings or ContactsSettings()  # type: ignore[call-arg]

    async def startup(rt: Runtime) -> None:
        contacts, catalog = ContactStore(rt.db), CatalogStore(rt.db)
        await contacts.ensure_indexes()
        await catalog.ensure_indexes()
        rt.deps["contacts"] = ContactsService(
            client=rt.client, contacts=contacts, catalog=catalog, outbox=rt.outbox,
            topic=settings.topics.contacts_events, tag_batch_size=settings.tag_batch_size,
        )

    def publishers(rt: Runtime) -> None:
        declare_contact_events(rt, topic=settings.topics.contacts_events)

    app = create_service_app(settings=settings, title="contacthub contacts", routers=[router],
                             on_startup=startup, setup_consumers=publishers)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc.status, exc.message)

    return app


def declare_contact_events(rt: Runtime, *, topic: str) -> None:
    """Declare what the relay publishes on the contacts topic, for the AsyncAPI document."""
    for event in CONTACT_EVENTS:
        rt.broker.publisher(
            topic, title=f"{topic}:{event.TYPE}", schema=Envelope[event],  # type: ignore[valid-type]
            description=(event.__doc__ or "").strip() + " Key: `<workspaceid>:<contact id>`.",
            include_in_schema=True,
        )
