"""405 answers that say what a path does take: ``Allow`` lists every method of every route
matching the path (Starlette's own 405 names only the first matching route's methods, so
``OPTIONS /v2/space/tag`` answered ``Allow: GET``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route

from shared.errors import error_response

#: The order ``Allow`` lists methods in.
_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods of the documented path the request's path is (the first in route order:
    ``/v2/contact/list`` is that literal path, never ``/v2/contact/{identifier}``)."""
    routes = [r for r in app.router.routes
              if isinstance(r, Route) and r.methods and r.include_in_schema]
    path = next((r.path for r in routes if r.matches(request.scope)[0] is not Match.NONE), None)
    methods: set[str] = set()
    for route in routes:
        if route.path == path and route.methods:
            methods |= route.methods
    return sorted(methods, key=lambda m: (_ORDER.index(m) if m in _ORDER else len(_ORDER), m))


async def method_not_allowed(request: Request) -> None:
    """Endpoint of the methods a literal path does not take (so ``PUT /v2/contact/list`` is a
    405, not ``PUT /v2/contact/{identifier}`` of a contact named ``list``)."""
    raise HTTPException(405)


def install_method_not_allowed(app: FastAPI) -> None:
    """Answer a method a path does not take with 405 ``{code, message}`` and a full ``Allow``."""

    async def not_allowed(request: Request, exc: Exception) -> JSONResponse:
        allowed = allowed_methods(app, request)
        headers = dict(getattr(exc, "headers", None) or {})
        headers["Allow"] = ", ".join(allowed)
        message = f"method {request.method} is not allowed on {request.url.path}; " + (
            f"it takes {', '.join(allowed)}" if allowed else "it takes none")
        return error_response(405, message, headers)

    # A status handler comes before the class handler of every other HTTPException.
    app.add_exception_handler(405, not_allowed)
