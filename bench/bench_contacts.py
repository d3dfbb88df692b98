"""Contact reads and creates through the gateway, next to a bare ``find_one`` endpoint.

In one run, on the bench stack (broker, fresh database, contacts service,
gateway with no practical rate limit), with httpx async clients at
``CONCURRENCY`` keep-alive connections:

- create: ``POST /v2/contact/phone:+336…`` with distinct valid numbers through
  the gateway (after a warm-up), first one at a time, then at ``CONCURRENCY``:
  creates/s, p50, p99, and, for the concurrent run, how long until every
  ``contact.created`` event of those creates was on ``contacts.events.v1``
  (read by a consumer with manual partition assignment, started before the
  first create). These contacts are the ones read next.
- get via gateway: ``GET /v2/contact/id:N`` (gateway → contacts service →
  SecantusDB), after a warm-up: requests/s, p50, p99. As a diagnostic, the same
  reads straight to the contacts service's internal API (no gateway hop).
- get bare: the same contacts read by a bare FastAPI app (``bench._bare_app``,
  uvicorn subprocess) doing one ``find_one`` on the same collection:
  requests/s, p50, p99; and the ratio gateway/bare.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx

from bench._common import (
    BARE_PORT,
    BENCH_VAR,
    LoadResult,
    TopicCounter,
    bench_stack,
    header,
    http_client,
    http_load,
    record,
    say,
)
from deploy.local.procs import ProcessSpec, ensure_running, stop
from deploy.local.stack import (
    REPO_ROOT,
    StackConfig,
    create_workspace,
    http_status,
    internal_token,
)
from shared.internal import Caller
from shared.settings import Topics

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
CONCURRENCY = 8
WARMUP_CREATES = 20
CREATES = max(50, int(500 * SCALE))
#: Creates one at a time before the measured run, to show what concurrency costs.
SERIAL_CREATES = max(20, int(100 * SCALE))
FIRST_MEASURED = WARMUP_CREATES + SERIAL_CREATES
WARMUP_GETS = 200
GETS = max(200, int(2_000 * SCALE))


def bearer(token: str) -> dict[str, str]:
    """The public API's auth header."""
    return {"Authorization": f"Bearer {token}"}


def phone(i: int) -> str:
    """The i-th distinct valid French mobile number, E.164."""
    return f"+336{12000000 + i:08d}"


# ----------------------------------------------------------------- create


async def creates(cfg: StackConfig, token: str, workspace_id: str) -> dict[str, Any]:
    """Warm up, then create CREATES contacts while a consumer waits for their events."""
    topic = Topics().contacts_events
    prefix = f"{workspace_id}:".encode()

    def created_in_run(rec: Any) -> bytes | None:
        # Ids are allocated in order and the earlier creates all answered before: the
        # measured run's contacts are the ids above FIRST_MEASURED.
        key = rec.key or b""
        if header(rec, "ce_type") != b"contact.created" or not key.startswith(prefix):
            return None
        return key if int(key[len(prefix):]) > FIRST_MEASURED else None

    def create(offset: int) -> Any:
        async def call(client: httpx.AsyncClient, i: int) -> httpx.Response:
            return await client.post(
                f"/v2/contact/phone:{phone(offset + i)}",
                json={"firstName": "Bench", "lastName": f"Contact {offset + i}"},
            )

        return call

    async with http_client(
        cfg.gateway_url, concurrency=CONCURRENCY, headers=bearer(token)
    ) as client:
        warm = await http_load(
            client, create(0), count=WARMUP_CREATES, concurrency=CONCURRENCY, ok_status=(200, 201)
        )
        if warm.errors:
            raise RuntimeError(f"warm-up creates failed: {warm.errors}")
        serial = await http_load(
            client, create(WARMUP_CREATES), count=SERIAL_CREATES, concurrency=1,
            ok_status=(200, 201),
        )
        if serial.errors:
            raise RuntimeError(f"serial creates failed: {serial.errors}")
        async with TopicCounter(
            cfg.kafka_bootstrap, topic, accept=created_in_run, from_end=True
        ) as counter:
            events = asyncio.create_task(counter.wait(CREATES))
            started = time.perf_counter()
            load = await http_load(
                client, create(FIRST_MEASURED), count=CREATES, concurrency=CONCURRENCY,
                ok_status=(200, 201),
            )
            answered = started + load.elapsed_s
            ok = len(load.latencies_s)
            if ok < CREATES:  # failed creates publish nothing: wait for the others only
                events.cancel()
                await asyncio.gather(events, return_exceptions=True)
                events = asyncio.create_task(counter.wait(ok))
            last_event = await events
    return {
        "load": load,
        "serial": serial,
        "events": len(counter.seen),
        "duplicates": counter.duplicates,
        "all_events_s": last_event - started,
        "after_last_answer_s": last_event - answered,
        "contacts": FIRST_MEASURED + ok,
    }


# ----------------------------------------------------------------- get


async def gets(
    base_url: str, path: str, *, contacts: int, headers: dict[str, str] | None = None
) -> LoadResult:
    """Warm up, then GETS reads of ``path.format(id=…)`` over ids 1..contacts."""

    async def call(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.get(path.format(id=i % contacts + 1))

    async with http_client(base_url, concurrency=CONCURRENCY, headers=headers) as client:
        warm = await http_load(client, call, count=WARMUP_GETS, concurrency=CONCURRENCY)
        if warm.errors:
            raise RuntimeError(f"warm-up reads of {base_url} failed: {warm.errors}")
        return await http_load(client, call, count=GETS, concurrency=CONCURRENCY)


def bare_spec(cfg: StackConfig, workspace_id: str) -> ProcessSpec:
    """The bare FastAPI app as a background process of the bench stack."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get(
        "PYTHONPATH") else "")
    env.update(
        PYTHONUNBUFFERED="1",
        BENCH_BARE_MONGO_URL=cfg.mongo_url,
        BENCH_BARE_PORT=str(BARE_PORT),
        BENCH_BARE_WORKSPACE=workspace_id,
    )
    health = f"http://127.0.0.1:{BARE_PORT}/health"
    return ProcessSpec(
        name="bare",
        argv=[cfg.python, "-m", "bench._bare_app"],
        cwd=REPO_ROOT,
        env=env,
        marker="bench._bare_app",
        ready=lambda: http_status(health, timeout_s=1.0) == 200,
        endpoint=health,
        pid_file=BENCH_VAR / "pids" / "bare.pid",
        log_file=BENCH_VAR / "logs" / "bare.log",
    )


# ----------------------------------------------------------------- main


async def measure(cfg: StackConfig, workspace: dict[str, Any]) -> dict[str, Any]:
    """Creates, then reads through the gateway, then the bare reads."""
    token = workspace["tokens"]["owner"]
    workspace_id = workspace["workspace_id"]
    say("settings", f"concurrency {CONCURRENCY} (httpx, keep-alive), workspace {workspace_id}")

    made = await creates(cfg, token, workspace_id)
    load: LoadResult = made["load"]
    say("create via gateway, concurrency 1", made["serial"].line())
    say(f"create via gateway, concurrency {CONCURRENCY}", load.line())
    say(
        "  contact.created events on topic",
        f"{made['events']}/{len(load.latencies_s)} seen {made['all_events_s']:.2f}s after the "
        f"first create, {made['after_last_answer_s'] * 1000:.0f} ms after the last answer "
        f"({made['duplicates']} duplicates)",
    )

    via_gateway = await gets(
        cfg.gateway_url, "/v2/contact/id:{id}", contacts=made["contacts"], headers=bearer(token)
    )
    say("get via gateway", via_gateway.line())

    # Diagnostic: the contacts service's internal API alone, as the gateway calls it.
    caller = Caller(workspace_id=workspace_id, user_id="bench", role="owner", default_region="FR")
    direct = await gets(
        cfg.service_url("contacts"), "/v2/contact/id:{id}", contacts=made["contacts"],
        headers=caller.headers(internal_token(cfg)),
    )
    say("  get direct to contacts service", direct.line())

    spec = bare_spec(cfg, workspace_id)
    await asyncio.to_thread(ensure_running, [spec], timeout_s=30)
    try:
        bare = await gets(
            f"http://127.0.0.1:{BARE_PORT}", "/contact/{id}", contacts=made["contacts"]
        )
    finally:
        await asyncio.to_thread(stop, spec)
    say("get bare find_one", bare.line())

    ratios = {
        "rate_gateway_over_bare": round(via_gateway.rate / bare.rate, 3),
        "p50_gateway_over_bare": round(via_gateway.pct_ms(50) / bare.pct_ms(50), 2),
    }
    say(
        "ratio gateway/bare",
        f"throughput {ratios['rate_gateway_over_bare']:.2f}, "
        f"p50 latency x{ratios['p50_gateway_over_bare']:.1f}",
    )
    return {
        "concurrency": CONCURRENCY,
        "create_via_gateway_serial": made["serial"].figures(),
        "create_via_gateway": {
            **load.figures(),
            "events_seen": made["events"],
            "event_duplicates": made["duplicates"],
            "all_events_on_topic_s": round(made["all_events_s"], 3),
            "events_after_last_answer_ms": round(made["after_last_answer_s"] * 1000, 1),
        },
        "get_via_gateway": via_gateway.figures(),
        "get_direct_contacts_service": direct.figures(),
        "get_bare_find_one": bare.figures(),
        "ratios": ratios,
    }


def main() -> None:
    """Start the whole bench stack (the gateway's /health needs every service), measure, stop."""
    with bench_stack(services=None) as cfg:
        workspace = create_workspace(cfg, "bench")
        figures = asyncio.run(measure(cfg, workspace))
    record("contacts", figures)
