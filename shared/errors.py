"""The ``{"code": <status>, "message": "..."}`` error format of every HTTP answer."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered to the caller as ``{code, message}`` with HTTP status ``code``."""

    def __init__(self, code: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers


def error_response(code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON body every error of the system has."""
    return JSONResponse({"code": code, "message": message}, status_code=code, headers=headers)


def describe_validation_error(exc: RequestValidationError) -> str:
    """One readable sentence per invalid field: where it is, what was sent, what is wrong."""
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        where = ".".join(loc) or "body"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) or value is None else f" {value!r}"
        parts.append(f"{where}:{shown} {err.get('msg', 'is invalid')}".replace("  ", " "))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error, validation errors and crashes included, as ``{code, message}``."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, describe_validation_error(exc))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal error; X-Request-ID names it in the logs")
