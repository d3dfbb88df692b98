"""The gateway's user directory (``users.py``): one read per cache period, a miss reads again
at most once a second, assignees resolved by id or email and shown as users."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.gateway.http11 import Answer
from services.gateway.users import (
    UserDirectory,
    assignee_ref,
    resolve_assignee,
    with_assignees,
)
from shared.errors import ApiError
from shared.internal import Caller

CALLER = Caller(workspace_id="ws_a", user_id="1", role="agent")


class Source:
    """Users of one workspace; counts reads."""

    def __init__(self) -> None:
        self.reads = 0
        self.users = [{"id": 1, "firstName": "Olivia", "lastName": "Owner",
                       "email": "owner@a.example", "role": "owner"}]

    async def users_of(self, workspace_id: str, **_: Any) -> list[dict[str, Any]]:
        self.reads += 1
        return list(self.users) if workspace_id == "ws_a" else []


class Clock:
    """A clock the test moves."""

    now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_users_are_read_once_per_period_and_a_miss_reads_again_sparingly() -> None:
    source, clock = Source(), Clock()
    directory = UserDirectory(source=source, clock=clock, ttl_s=10.0)
    assert (await directory.find("ws_a", 1))["email"] == "owner@a.example"
    assert (await directory.find("ws_a", "OWNER@a.example "))["id"] == 1
    assert source.reads == 1
    source.users.append({"id": 2, "firstName": "Max", "lastName": "Manager",
                         "email": "manager@a.example", "role": "manager"})
    assert await directory.find("ws_a", 2) is None, "read less than a second ago"
    assert source.reads == 1
    clock.now += 1.5
    assert (await directory.find("ws_a", 2))["id"] == 2, "a miss reads again"
    assert source.reads == 2
    for _ in range(5):
        assert await directory.find("ws_a", 99) is None
    assert source.reads == 2
    clock.now += 10
    await directory.find("ws_a", 1)
    assert source.reads == 3, "the period is over"


@pytest.mark.parametrize("value", [0, -1, 2**63, True, "usr_1", "2", [1], {"id": 1}, 1.0])
def test_an_assignee_is_an_id_in_range_or_an_email(value: Any) -> None:
    with pytest.raises(ApiError) as refused:
        assignee_ref(value)
    assert refused.value.code == 422 and "assignee" in str(refused.value.message)


async def test_a_body_names_its_assignee_by_id_and_a_contact_shows_the_user() -> None:
    directory = UserDirectory(source=Source(), clock=Clock())
    assert await resolve_assignee(directory, CALLER, {"assignee": 1}) is None
    assert await resolve_assignee(directory, CALLER, {"assignee": None}) is None
    assert await resolve_assignee(directory, CALLER, {"assignee": "Owner@A.example",
                                                      "x": 1}) == {"assignee": 1, "x": 1}
    with pytest.raises(ApiError):
        await resolve_assignee(directory, CALLER, {"assignee": 7})

    page = {"items": [{"id": 5, "assignee": 1}, {"id": 4, "assignee": 3},
                      {"id": 3, "assignee": None}], "pagination": {"next": None}}
    answer = Answer(200, {"content-type": "application/json"}, json.dumps(page).encode())
    shown = json.loads((await with_assignees(directory, CALLER, answer)).body)
    assert [c["assignee"] for c in shown["items"]] == [
        {"id": 1, "firstName": "Olivia", "lastName": "Owner", "email": "owner@a.example"},
        None, None]
    refused = Answer(404, {"content-type": "application/json"}, b'{"assignee":1}')
    assert (await with_assignees(directory, CALLER, refused)).body == b'{"assignee":1}'
