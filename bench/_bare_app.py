"""The baseline of the contact-read benchmark: a bare FastAPI endpoint doing one ``find_one``.

``python -m bench._bare_app`` serves ``GET /contact/{id}`` on 127.0.0.1, reading
the contacts service's own store (database ``contacthub_contacts``, collection
``contacts``, ``_id = "<workspace_id>:<id>"``) with the same client factory and
the same uvicorn settings as our services — and nothing else: no auth, no
gateway hop, no metrics, no logging, no mapping to the API model.

Environment: ``BENCH_BARE_MONGO_URL``, ``BENCH_BARE_PORT``, ``BENCH_BARE_WORKSPACE``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException

from shared.mongo import make_mongo_client
from shared.settings import MongoSettings

DATABASE = "contacthub_contacts"


def build_app(mongo_url: str, workspace_id: str) -> FastAPI:
    """The bare app: one route, one query."""
    settings = MongoSettings(mongo_url=mongo_url, mongo_database=DATABASE)
    client = make_mongo_client(settings, app_name="bench-bare")
    contacts = client[DATABASE]["contacts"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        await client[DATABASE].command("ping")
        return {"status": "ok"}

    @app.get("/contact/{contact_id}")
    async def get_contact(contact_id: int) -> dict[str, Any]:
        doc = await contacts.find_one({"_id": f"{workspace_id}:{contact_id}"})
        if doc is None:
            raise HTTPException(404, "no such contact")
        doc.pop("_id", None)
        return doc

    return app


def main() -> None:
    """Serve in the foreground, like ``shared.service.serve`` does for our services."""
    app = build_app(os.environ["BENCH_BARE_MONGO_URL"], os.environ["BENCH_BARE_WORKSPACE"])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(os.environ["BENCH_BARE_PORT"]),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
