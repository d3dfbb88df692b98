"""Schemathesis against the gateway (issue 7): every operation of ``/openapi.json`` with
``--checks all``, seeded and bounded by ``tests/e2e/schemathesis.toml``; 0 server errors and
0 answers that do not match the document.

The run goes to a gateway process of its own (the stack's gateway settings, its rate limit
raised: one token sends every case), started here on a free port and stopped by its PID.
It authenticates as the owner of a workspace made for it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.local.stack import GATEWAY, SERVICES_BY_NAME, http_status, service_env
from tests.fixtures.stack import JointFixture

CONFIG = Path(__file__).with_name("schemathesis.toml")
#: Well under the 3 minutes the whole test may take on a 2-core machine.
RUN_TIMEOUT_S = 150
#: Requests per second one token may send to the run's gateway.
RAISED_RATE_LIMIT = 1_000_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def fuzzed_gateway(system: JointFixture) -> Iterator[str]:
    """A gateway process with the stack's settings and a raised rate limit; its URL."""
    system.require("gateway", "contacts")
    spec = SERVICES_BY_NAME[GATEWAY]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = service_env(system.config, spec)
    settings |= {f"{spec.env_prefix}HTTP_PORT": str(port), f"{spec.env_prefix}PUBLIC_URL": url,
                 f"{spec.env_prefix}RATE_LIMIT_REQUESTS": str(RAISED_RATE_LIMIT)}
    env = {**os.environ, **settings, "PYTHONPATH": str(system.config.repo_root),
           "PYTHONUNBUFFERED": "1"}
    log_path = system.config.log_file("gateway-schemathesis")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen([system.config.python, "-m", "services.gateway"],
                                cwd=system.config.repo_root, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while http_status(f"{url}/health", timeout_s=1.0) != 200:
            assert proc.poll() is None, f"the gateway exited; see {log_path}"
            assert time.monotonic() < deadline, f"the gateway is not up; see {log_path}"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _prepare(url: str, token: str) -> None:
    """What the document's examples name: the custom field `plan`, the tag `vip`, a contact
    `ann@example.com`, so the examples reach the services' rules, not only their 404s."""
    with httpx.Client(base_url=url, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        plan = {"name": "plan", "dataType": "list", "allowedValues": ["gold", "silver"]}
        assert client.post("/v2/space/custom_field", json=plan).status_code == 201
        assert client.post("/v2/space/tag", json={"name": "vip"}).status_code == 201
        created = client.post("/v2/contact/email:ann@example.com", json={"firstName": "Ann"})
        assert created.status_code == 200, created.text


def _figures(report: Path) -> dict[str, int]:
    """Operations, cases and answers by status class of the run, from its NDJSON events."""
    figures = {"operations": 0, "cases": 0, "2xx": 0, "4xx": 0, "5xx": 0}
    for line in report.read_text().splitlines():
        event = json.loads(line)
        if "LoadingFinished" in event:
            stats = event["LoadingFinished"]["statistic"]["operations"]
            figures["operations"] = stats["selected"]
        recorder: dict[str, Any] = (event.get("ScenarioFinished") or {}).get("recorder") or {}
        figures["cases"] += len(recorder.get("cases") or {})
        for interaction in (recorder.get("interactions") or {}).values():
            status = (interaction.get("response") or {}).get("status_code")
            if status is not None:
                key = f"{status // 100}xx"
                figures[key] = figures.get(key, 0) + 1
    return figures


def test_schemathesis_finds_nothing(system: JointFixture, fuzzed_gateway: str,
                                    tmp_path: Path) -> None:
    workspace = system.create_workspace()
    token = workspace["tokens"]["owner"]
    _prepare(fuzzed_gateway, token)
    st = Path(sys.executable).with_name("st")
    report = tmp_path / "events.ndjson"
    argv = [str(st), "--config-file", str(CONFIG), "--no-color", "run",
            f"{fuzzed_gateway}/openapi.json", "--checks", "all",
            "--report", "ndjson", "--report-ndjson-path", str(report)]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=tmp_path, env={**os.environ, "CONTACTHUB_ST_TOKEN": token},
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    elapsed = time.monotonic() - started
    figures = _figures(report) if report.exists() else {}
    print(f"\nschemathesis: {figures} in {elapsed:.1f} s (exit {done.returncode})")
    summary = done.stdout[done.stdout.rfind("SUMMARY"):] if "SUMMARY" in done.stdout else ""
    print(summary)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert figures["operations"] >= 20 and figures["cases"] >= 1000, figures
    assert figures["5xx"] == 0, figures
