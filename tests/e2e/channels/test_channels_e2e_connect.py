"""Workspace channels through the gateway (issue 8): connect every source, list and page,
delete; secrets never answered; a custom channel's API token answered once; bad bodies are
4xx ``{code, message}`` naming the field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.channels.conftest import CONNECT, SECRETS, connect, webhook_path
from tests.e2e.contacts.conftest import Workspace, assert_error

KEY = r"[A-Za-z0-9_-]{43}"
PATHS = {"whatsapp_cloud": "whatsapp", "facebook": "messenger", "instagram": "messenger",
         "twilio": "sms", "gmail": "email", "other_email": "email", "custom_channel": "custom"}


async def test_every_source_connects_with_respondio_shape_and_a_webhook_url(
    ws: Workspace,
) -> None:
    shown: list[dict[str, Any]] = []
    for source in CONNECT:
        channel = await connect(ws, source, name=f"My {source}")
        shown.append(channel)
        assert channel["name"] == f"My {source}" and channel["source"] == source
        assert isinstance(channel["id"], int) and isinstance(channel["created_at"], int)
        if source in PATHS:
            assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/webhooks/{PATHS[source]}/{KEY}",
                                channel["webhookUrl"]), channel
        else:
            assert channel["webhookUrl"] is None
        expected = {"id", "name", "source", "created_at", "webhookUrl"}
        assert set(channel) == expected | ({"apiToken"} if source == "custom_channel" else set())
    assert [c["id"] for c in shown] == list(range(1, len(CONNECT) + 1))  # per workspace
    keys = {c["webhookUrl"] for c in shown if c["webhookUrl"]}
    assert len(keys) == len(PATHS)  # one unguessable key per channel

    page = (await ws.agent.get("/v2/space/channel", params={"limit": 100})).json()
    assert [c["id"] for c in page["items"]] == [c["id"] for c in shown]
    assert page["items"][0] == {k: v for k, v in shown[0].items() if k != "apiToken"}
    for text in (str(shown), str(page)):
        for secret in SECRETS:
            assert secret not in text


async def test_the_custom_channel_api_token_is_answered_once(ws: Workspace) -> None:
    channel = await connect(ws, "custom_channel")
    token = channel["apiToken"]
    assert isinstance(token, str) and len(token) >= 40
    listed = (await ws.owner.get("/v2/space/channel")).json()
    assert token not in str(listed) and "apiToken" not in str(listed)
    other = await connect(ws, "custom_channel")
    assert other["apiToken"] != token


async def test_list_pages_with_cursor_and_links(ws: Workspace, other_ws: Workspace) -> None:
    ids = [(await connect(ws, "telegram"))["id"] for _ in range(5)]
    await connect(other_ws, "telegram")
    first = (await ws.owner.get("/v2/space/channel", params={"limit": 2})).json()
    assert [c["id"] for c in first["items"]] == ids[:2]
    assert first["pagination"]["previous"] is None
    assert first["pagination"]["next"].endswith(f"/v2/space/channel?limit=2&cursorId={ids[1]}")
    second = (await ws.owner.get("/v2/space/channel",
                                 params={"limit": 2, "cursorId": ids[1]})).json()
    assert [c["id"] for c in second["items"]] == ids[2:4]
    assert second["pagination"]["previous"].endswith(f"beforeId={ids[2]}")
    last = (await ws.owner.get("/v2/space/channel", params={"limit": 2, "cursorId": ids[3]})
            ).json()
    assert [c["id"] for c in last["items"]] == ids[4:] and last["pagination"]["next"] is None
    back = (await ws.owner.get("/v2/space/channel", params={"limit": 2, "beforeId": ids[2]})
            ).json()
    assert [c["id"] for c in back["items"]] == ids[:2]
    both = await ws.owner.get("/v2/space/channel", params={"cursorId": 1, "beforeId": 3})
    assert_error(both, 422, "cursorId")
    assert [c["id"] for c in (await other_ws.owner.get("/v2/space/channel")).json()["items"]
            ] == [1]


async def test_connect_and_delete_are_for_owners_and_managers(ws: Workspace) -> None:
    answer = await ws.agent.post("/v2/space/channel", json={"name": "x", "source": "webchat"})
    assert_error(answer, 403, "agent")
    channel = await connect(ws, "webchat", client=ws.manager)
    assert_error(await ws.agent.delete(f"/v2/space/channel/{channel['id']}"), 403, "agent")
    deleted = await ws.manager.delete(f"/v2/space/channel/{channel['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"code": 200, "message": f"channel {channel['id']} deleted"}


async def test_delete_lists_it_no_more_and_its_webhook_is_unknown(ws: Workspace,
                                                                  provider: Any) -> None:
    channel = await connect(ws, "whatsapp_cloud")
    kept = await connect(ws, "telegram")
    assert (await ws.owner.delete(f"/v2/space/channel/{channel['id']}")).status_code == 200
    listed = (await ws.owner.get("/v2/space/channel")).json()["items"]
    assert [c["id"] for c in listed] == [kept["id"]]
    verify = await provider.get(webhook_path(channel), params={
        "hub.mode": "subscribe", "hub.verify_token": CONNECT["whatsapp_cloud"]["verifyToken"],
        "hub.challenge": "123"})
    assert_error(verify, 404, "webhook")
    assert_error(await provider.post(webhook_path(channel), content=b"{}"), 404)
    assert_error(await ws.owner.delete(f"/v2/space/channel/{channel['id']}"), 404, "channel")
    assert_error(await ws.owner.delete("/v2/space/channel/999"), 404)
    # a new channel takes a new id, never the deleted one's
    assert (await connect(ws, "telegram"))["id"] == kept["id"] + 1


BAD_BODIES: list[tuple[Any, str]] = [
    ({"name": "x", "source": "telegram", "colour": "red"}, "colour"),
    ({"name": "x", "source": "pigeon"}, "source"),
    ({"name": "x"}, "source"),
    ({"source": "telegram"}, "name"),
    ({"name": "", "source": "telegram"}, "name"),
    ({"name": "   ", "source": "telegram"}, "name"),
    ({"name": "a\u0000b", "source": "telegram"}, "name"),
    ({"name": "x" * 256, "source": "telegram"}, "name"),
    ({"name": 5, "source": "telegram"}, "name"),
    ({"name": "x", "source": "twilio", "phoneNumber": "0612345678", "authToken": "t" * 32},
     "phoneNumber"),
    ({"name": "x", "source": "twilio", "phoneNumber": "+1415", "authToken": "t" * 32},
     "phoneNumber"),
    ({"name": "x", "source": "twilio", "phoneNumber": "+14155550100"}, "authToken"),
    ({"name": "x", "source": "twilio", "phoneNumber": "+14155550100", "authToken": "a b c d e"},
     "authToken"),
    ({"name": "x", "source": "whatsapp_cloud", **CONNECT["whatsapp_cloud"],
      "phoneNumberId": "12ab"}, "phoneNumberId"),
    ({"name": "x", "source": "whatsapp_cloud", **CONNECT["whatsapp_cloud"],
      "phoneNumberId": 106540352242922}, "phoneNumberId"),
    ({"name": "x", "source": "facebook", **CONNECT["facebook"], "verifyToken": "a\tb"},
     "verifyToken"),
    ({"name": "x", "source": "gmail", "address": "not-an-email", "signingSecret": "s" * 16},
     "address"),
    ({"name": "x", "source": "gmail", "address": "a@b", "signingSecret": "s" * 16}, "address"),
    ({"name": "x", "source": "custom_channel", "idType": "email"}, "idType"),
    ({"name": "x", "source": "custom_channel", "idType": "phone", "apiToken": "mine"},
     "apiToken"),
    ({"name": "x", "source": "telegram", "appSecret": "s" * 16}, "appSecret"),
    ([{"name": "x", "source": "telegram"}], "body"),
    ("telegram", "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES, ids=[f for _, f in BAD_BODIES])
async def test_a_bad_connect_body_is_a_4xx_naming_the_field_and_connects_nothing(
    ws: Workspace, body: Any, field: str,
) -> None:
    answer = await ws.owner.post("/v2/space/channel", json=body)
    assert 400 <= answer.status_code < 500, answer.text
    assert_error(answer, answer.status_code, field)
    assert (await ws.owner.get("/v2/space/channel")).json()["items"] == []
