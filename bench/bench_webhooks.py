"""Webhook answer time: signed WhatsApp Cloud API webhooks posted to the gateway, each
answered once the channels service verified it and the broker acknowledged its event on
``channels.inbound.v1`` (acks=all).

Runs a stack of its own (var/bench-webhooks, its own ports: it never touches the other
benchmarks' var/bench stack), on 127.0.0.1 only, with bounded request counts:

- one sender at a time (the answer time a provider sees): p50/p99/max;
- 8 concurrent senders (a provider's burst): answers per second and p50/p99;
- every accepted webhook is then counted on the topic (none lost, none extra).

``python -m bench webhooks`` (``WEBHOOK_BENCH_COUNT`` sets the sequential count, 1,000).
Last run (2 CPUs): one sender p50 6.1 ms, p99 9.6 ms; 8 senders 342/s, p50 21.7 ms, p99 57.5 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiokafka import ConsumerRecord

from bench._common import TopicCounter, http_client, http_load, say, say_machine
from deploy.local.stack import (
    REPO_ROOT,
    SERVICES,
    StackConfig,
    available_services,
    create_workspace,
    start_servers,
    start_services,
    stop_all,
    stop_named,
)
from shared.settings import Topics

VAR = REPO_ROOT / "var" / "bench-webhooks"
RESULTS = VAR / "results.jsonl"
#: Ports of this bench's stack: away from dev, test (+offsets) and the var/bench stack.
BROKER_PORT, MONGO_PORT, GATEWAY_PORT = 29592, 27517, 28500
SECRET = "bench-app-secret-0123456789abcdef"
PHONE_NUMBER_ID = "106540352242922"
COUNT = int(os.environ.get("WEBHOOK_BENCH_COUNT", "1000"))
BURST, CONCURRENCY = 2 * COUNT, 8


def config() -> StackConfig:
    """This bench's isolated stack (per-token and per-webhook limits out of the way)."""
    ports = {s.name: (GATEWAY_PORT if s.name == "gateway" else s.port + 20_400) for s in SERVICES}
    return StackConfig(var_dir=VAR, broker_port=BROKER_PORT, mongo_port=MONGO_PORT,
                       service_ports=ports, startup_timeout_s=90.0,
                       extra_env={"GATEWAY_RATE_LIMIT_REQUESTS": "1000000",
                                  "GATEWAY_WEBHOOK_RATE_LIMIT_REQUESTS": "1000000"})


@contextlib.contextmanager
def stack() -> Iterator[StackConfig]:
    """Broker, a fresh database, every service and the gateway; all stopped at the end."""
    cfg = config()
    say_machine()
    stop_all(cfg)  # leftovers of a killed run of this bench
    started = time.perf_counter()
    names = ["mongo", "broker"]
    try:
        start_servers(cfg, fresh_db=True)
        present = available_services(cfg, None)
        names = [*reversed(present), *names]
        start_services(cfg, present)
        say("stack up", f"{time.perf_counter() - started:.1f}s")
        yield cfg
    finally:
        stop_named(cfg, names)


def webhook_body(i: int) -> bytes:
    """A WhatsApp Cloud API text message from one of 50 senders, as Meta documents it."""
    wa_id = f"3361234{i % 50:04d}"
    return json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881",
                         "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Bench Sender"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": f"wamid.bench-{i}", "type": "text",
                          "timestamp": str(int(time.time())), "text": {"body": f"hi {i}"}}],
        }}]}]}).encode()


def signed(body: bytes) -> dict[str, str]:
    """The headers Meta sends: JSON and ``X-Hub-Signature-256``."""
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def bench_id(record: ConsumerRecord[bytes, bytes]) -> str | None:
    """The provider message id of an inbound event of this bench."""
    data = json.loads(record.value or b"{}").get("data", {})
    mid = data.get("provider_message_id", "")
    return mid if mid.startswith("wamid.bench-") else None


def main() -> None:
    """Connect a WhatsApp channel, post signed webhooks, print the answer times."""
    with stack() as cfg:
        owner = create_workspace(cfg, "bench-webhooks")["tokens"]["owner"]
        asyncio.run(run(cfg, owner))


async def run(cfg: StackConfig, owner: str) -> None:
    """The measured part, on a running stack."""
    async with httpx.AsyncClient(base_url=cfg.gateway_url, timeout=30) as client:
        answer = await client.post("/v2/space/channel", headers={
            "Authorization": f"Bearer {owner}"}, json={
            "name": "Bench", "source": "whatsapp_cloud", "phoneNumberId": PHONE_NUMBER_ID,
            "displayPhoneNumber": "+15550783881", "appSecret": SECRET,
            "verifyToken": "bench"})
        answer.raise_for_status()
    path = urlsplit(answer.json()["webhookUrl"]).path
    bodies = [webhook_body(i) for i in range(50 + COUNT + BURST)]

    async def post(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post(path, content=bodies[i], headers=signed(bodies[i]))

    async with TopicCounter(cfg.kafka_bootstrap, Topics().channels_inbound,
                            accept=bench_id) as counter:
        async with http_client(cfg.gateway_url, concurrency=CONCURRENCY) as client:
            await http_load(client, post, count=50, concurrency=1)  # warm-up

            async def sequential(c: httpx.AsyncClient, i: int) -> httpx.Response:
                return await post(c, 50 + i)

            async def burst(c: httpx.AsyncClient, i: int) -> httpx.Response:
                return await post(c, 50 + COUNT + i)

            one = await http_load(client, sequential, count=COUNT, concurrency=1)
            say("webhook answer, 1 sender", one.line())
            many = await http_load(client, burst, count=BURST, concurrency=CONCURRENCY)
            say(f"webhook answer, {CONCURRENCY} senders", many.line())
        await counter.wait(50 + COUNT + BURST)
        say("events on channels.inbound.v1", f"{len(counter.seen)} distinct of "
            f"{50 + COUNT + BURST} accepted, {counter.duplicates} duplicates")
    VAR.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        out.write(json.dumps({"bench": "webhooks", "at": datetime.now(UTC).isoformat(
            timespec="seconds"), "sequential": one.figures(), "burst": many.figures(),
            **_load()}) + "\n")
    print(f"   (appended to {RESULTS.relative_to(REPO_ROOT)})", flush=True)


def _load() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "loadavg_1m_after": round(os.getloadavg()[0], 2)}

