"""The ``{code, message}`` error format: validation errors read as one sentence per field,
and every kind of failure of an app answers in that shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.errors import ApiError, describe_validation_error, install_error_handlers


def error(loc: tuple[Any, ...], msg: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "input": value, "type": "value_error", **extra}


def test_a_field_error_names_the_field_the_value_and_what_is_wrong() -> None:
    exc = RequestValidationError([error(("body", "email"), "value is not a valid email",
                                        "ann@")])
    assert describe_validation_error(exc) == "email: 'ann@' value is not a valid email"


def test_nested_locations_are_dotted_and_the_request_part_is_left_out() -> None:
    exc = RequestValidationError([
        error(("body", "custom_fields", 0, "name"), "String should have at most 64 characters",
              "x" * 3),
        error(("query", "limit"), "Input should be less than or equal to 100", 500),
        error(("path", "identifier"), "is not an identifier", "nope"),
        error(("header", "x-user-role"), "Input should be 'owner', 'manager' or 'agent'",
              "boss"),
    ])
    assert describe_validation_error(exc).split("; ") == [
        "custom_fields.0.name: 'xxx' String should have at most 64 characters",
        "limit: 500 Input should be less than or equal to 100",
        "identifier: 'nope' is not an identifier",
        "x-user-role: 'boss' Input should be 'owner', 'manager' or 'agent'",
    ]


def test_missing_values_and_whole_objects_are_not_echoed() -> None:
    exc = RequestValidationError([
        error(("body", "firstName"), "Field required", None),
        error(("body", "filter"), "Input should be a valid list", {"secret": "x" * 1000}),
        error(("body", "tags"), "Input should be a valid dictionary", ["a", "b"]),
        error(("body",), "Input should be a valid dictionary", "text"),
    ])
    assert describe_validation_error(exc).split("; ") == [
        "firstName: Field required",
        "filter: Input should be a valid list",
        "tags: Input should be a valid dictionary",
        "body: 'text' Input should be a valid dictionary",
    ]


def test_no_errors_still_says_something() -> None:
    assert describe_validation_error(RequestValidationError([])) == "invalid request"


class Thing(BaseModel):
    name: str
    count: int


def app_with_errors() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/things")
    async def things(limit: int = Query(default=10, ge=1, le=100)) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.get("/teapot")
    async def teapot() -> None:
        raise ApiError(418, "name: 'earl grey' is a tea", headers={"Retry-After": "5"})

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    return TestClient(app, raise_server_exceptions=False)


def test_every_failure_of_an_app_answers_code_and_message() -> None:
    client = app_with_errors()

    bad_query = client.get("/things", params={"limit": "abc"})
    assert bad_query.status_code == 422
    assert bad_query.json() == {
        "code": 422,
        "message": "limit: 'abc' Input should be a valid integer, unable to parse string as an "
                   "integer",
    }

    bad_body = client.post("/things", json={"name": "x"})
    assert bad_body.json() == {"code": 422, "message": "count: Field required"}

    teapot = client.get("/teapot")
    assert (teapot.status_code, teapot.json()) == (418, {"code": 418,
                                                         "message": "name: 'earl grey' is a tea"})
    assert teapot.headers["Retry-After"] == "5"

    missing = client.get("/nowhere")
    assert missing.json() == {"code": 404, "message": "Not Found"}
    wrong_method = client.delete("/things")
    assert wrong_method.json() == {"code": 405, "message": "Method Not Allowed"}

    crash = client.get("/crash")
    assert crash.status_code == 500
    assert set(crash.json()) == {"code", "message"}
    assert "secret" not in crash.text and "Traceback" not in crash.text
