"""What an operator sees (issue 2): /health and /metrics of every process, JSON log lines.

Talks to the running services the way a monitoring system does: over HTTP, and by reading
the log files the local stack writes.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx

from tests.fixtures.stack import JointFixture

SERVICES = ("contacts", "channels", "merge", "deletion")


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


async def test_every_service_reports_its_broker_and_database_in_health(
    system: JointFixture,
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for name in SERVICES:
            answer = await client.get(f"{system.service_url(name)}/health")
            assert answer.status_code == 200, (name, answer.text)
            assert answer.json() == {"status": "ok",
                                     "checks": {"mongodb": "ok", "kafka": "ok"}}, name


async def test_metrics_count_http_calls_published_events_and_handled_messages(
    system: JointFixture, workspace: dict[str, Any],
) -> None:
    token = workspace["tokens"]["owner"]
    async with httpx.AsyncClient(timeout=10) as client:
        before = (await client.get(f"{system.service_url('merge')}/metrics")).text
        handled_before = metric(before, "contacthub_messages_handled_total",
                                type="contact.created", outcome="ok")
        answer = await client.post(f"{system.gateway_url}/v2/contact/email:m@example.com",
                                   headers={"Authorization": f"Bearer {token}"}, json={})
        assert answer.status_code == 200, answer.text

        deadline = time.monotonic() + 10  # the relay publishes right after the commit
        while True:
            contacts = (await client.get(f"{system.service_url('contacts')}/metrics")).text
            published = metric(contacts, "contacthub_outbox_published_total", service="contacts")
            if published >= 1 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert published >= 1
        assert metric(contacts, "contacthub_http_seconds_count", service="contacts",
                      route="/v2/contact/{identifier}", method="POST") >= 1
        gateway = (await client.get(f"{system.gateway_url}/metrics")).text
        assert metric(gateway, "contacthub_http_seconds_count", service="gateway",
                      route="/v2/contact/{identifier}", method="POST", status="200") >= 1

        # The merge service consumes contacts.events.v1: it counts the event it handled.
        deadline = time.monotonic() + 30
        handled = handled_before
        while handled <= handled_before and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            text = (await client.get(f"{system.service_url('merge')}/metrics")).text
            handled = metric(text, "contacthub_messages_handled_total",
                             type="contact.created", outcome="ok")
        assert handled > handled_before
        text = (await client.get(f"{system.service_url('merge')}/metrics")).text
        assert metric(text, "contacthub_handler_seconds_count", service="merge") >= 1


def test_every_log_line_of_our_services_is_json_with_service_and_level(
    system: JointFixture,
) -> None:
    for name in (*SERVICES, "gateway"):
        lines = [line for line in system.config.log_file(name).read_text().splitlines()
                 if line.strip() and not line.startswith("===")]  # the stack's start markers
        assert lines, name
        for line in lines:
            record = json.loads(line)  # fails on any line that is not JSON
            assert record["service"] == name and record["level"] and record["time"], line
