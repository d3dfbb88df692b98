"""The local stack manager: settings it hands to services, and PID-file process control."""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.local.cli import _parse_args, config_from_args
from deploy.local.procs import ProcessSpec, StackError, ensure_running, is_alive, read_pid, stop
from deploy.local.stack import (
    SERVICES_BY_NAME,
    StackConfig,
    internal_token,
    port_open,
    service_env,
)


@pytest.fixture(autouse=True)
def _default_test_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check the documented ports, whatever offset the caller runs with."""
    monkeypatch.delenv("CONTACTHUB_TEST_PORT_OFFSET", raising=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_server_spec(tmp_path: Path, port: int, *, argv: list[str] | None = None) -> ProcessSpec:
    return ProcessSpec(
        name="web",
        argv=argv or [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        env={},
        marker="http.server" if argv is None else argv[-1],
        ready=lambda: port_open(port),
        endpoint=f"127.0.0.1:{port}",
        pid_file=tmp_path / "pids" / "web.pid",
        log_file=tmp_path / "logs" / "web.log",
        stop_timeout_s=5,
    )


def test_test_profile_uses_its_own_ports_and_var_dir() -> None:
    cfg = StackConfig.for_tests()
    assert cfg.var_dir.parts[-2:] == ("var", "test")
    assert cfg.kafka_bootstrap == "127.0.0.1:19092"
    assert cfg.mongo_url == "mongodb://127.0.0.1:27117/?directConnection=true&retryWrites=false"
    assert cfg.gateway_url == "http://127.0.0.1:18000"
    assert [cfg.service_ports[n] for n in ("contacts", "channels", "merge", "deletion")] == [
        18101,
        18102,
        18103,
        18104,
    ]


def test_default_profile_matches_the_design_ports() -> None:
    cfg = StackConfig()
    assert cfg.kafka_bootstrap == "127.0.0.1:9092"
    assert cfg.mongo_url.startswith("mongodb://127.0.0.1:27017/")
    assert dict(cfg.service_ports) == {
        "contacts": 8101,
        "channels": 8102,
        "merge": 8103,
        "deletion": 8104,
        "gateway": 8000,
    }


def test_internal_token_is_private_long_and_stable(tmp_path: Path) -> None:
    cfg = StackConfig(var_dir=tmp_path)
    token = internal_token(cfg)
    assert len(token) >= 16
    assert internal_token(cfg) == token
    assert stat.S_IMODE(cfg.token_file.stat().st_mode) == 0o600


def test_service_env_carries_every_setting_with_the_service_prefix(tmp_path: Path) -> None:
    cfg = StackConfig.for_tests(
        var_dir=tmp_path, kafka_session_timeout_ms=6000, kafka_heartbeat_interval_ms=1000
    )
    env = service_env(cfg, SERVICES_BY_NAME["merge"])
    assert env == {
        "MERGE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "MERGE_KAFKA_PARTITIONS": "6",
        "MERGE_MONGO_URL": "mongodb://127.0.0.1:27117/?directConnection=true&retryWrites=false",
        "MERGE_HTTP_HOST": "127.0.0.1",
        "MERGE_HTTP_PORT": "18103",
        "MERGE_INTERNAL_TOKEN": internal_token(cfg),
        "MERGE_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "MERGE_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
    }


def test_gateway_env_names_every_service_url(tmp_path: Path) -> None:
    env = service_env(StackConfig(var_dir=tmp_path), SERVICES_BY_NAME["gateway"])
    assert env["GATEWAY_HTTP_PORT"] == "8000"
    assert env["GATEWAY_PUBLIC_URL"] == "http://127.0.0.1:8000"
    assert {k: v for k, v in env.items() if "SERVICE_URLS" in k} == {
        "GATEWAY_SERVICE_URLS__CONTACTS": "http://127.0.0.1:8101",
        "GATEWAY_SERVICE_URLS__CHANNELS": "http://127.0.0.1:8102",
        "GATEWAY_SERVICE_URLS__MERGE": "http://127.0.0.1:8103",
        "GATEWAY_SERVICE_URLS__DELETION": "http://127.0.0.1:8104",
    }
    assert "SESSION_TIMEOUT" not in " ".join(env)


def test_cli_flags_override_ports() -> None:
    cfg = config_from_args(
        _parse_args(["--profile", "test", "--broker-port", "29092", "--port", "gateway=9000", "up"])
    )
    assert cfg.broker_port == 29092
    assert cfg.mongo_port == 27117
    assert cfg.service_ports["gateway"] == 9000
    assert cfg.service_ports["contacts"] == 18101


def test_start_is_idempotent_and_stop_leaves_nothing(tmp_path: Path) -> None:
    spec = _http_server_spec(tmp_path, _free_port())
    [first] = ensure_running([spec], timeout_s=20)
    try:
        assert not first.reused
        assert read_pid(spec.pid_file) == first.pid
        [second] = ensure_running([spec], timeout_s=20)
        assert second.reused
        assert second.pid == first.pid
    finally:
        assert stop(spec) == first.pid
    assert not is_alive(first.pid)
    assert not spec.pid_file.exists()
    assert not spec.ready()
    assert stop(spec) is None


def test_a_stale_pid_file_is_replaced(tmp_path: Path) -> None:
    spec = _http_server_spec(tmp_path, _free_port())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    spec.pid_file.parent.mkdir(parents=True)
    spec.pid_file.write_text(f"{dead.pid}\n")
    [started] = ensure_running([spec], timeout_s=20)
    try:
        assert not started.reused
        assert read_pid(spec.pid_file) == started.pid != dead.pid
    finally:
        stop(spec)


def test_a_port_held_by_a_stranger_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        spec = _http_server_spec(tmp_path, int(sock.getsockname()[1]))
        with pytest.raises(StackError, match="something else uses that port"):
            ensure_running([spec], timeout_s=5)
    assert not spec.pid_file.exists()


def test_a_process_that_dies_at_start_points_at_its_log(tmp_path: Path) -> None:
    port = _free_port()
    argv = [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)", "dies-at-start"]
    spec = _http_server_spec(tmp_path, port, argv=argv)
    with pytest.raises(StackError, match="exited before") as failure:
        ensure_running([spec], timeout_s=10)
    assert str(spec.log_file) in str(failure.value)
    assert "boom" in str(failure.value)
    assert not spec.pid_file.exists()


def test_stop_never_signals_a_process_it_did_not_start(tmp_path: Path) -> None:
    spec = _http_server_spec(tmp_path, _free_port())
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        spec.pid_file.parent.mkdir(parents=True)
        spec.pid_file.write_text(f"{stranger.pid}\n")
        assert stop(spec) is None
        assert stranger.poll() is None
        assert not spec.pid_file.exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_test_ports_can_be_shifted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTHUB_TEST_PORT_OFFSET", "1000")
    cfg = StackConfig.for_tests()
    assert (cfg.broker_port, cfg.mongo_port) == (20092, 28117)
    assert cfg.gateway_url == "http://127.0.0.1:19000"


def test_every_process_takes_its_port_database_and_prefix_from_the_topology() -> None:
    from services.channels.settings import ChannelsSettings
    from services.contacts.settings import ContactsSettings
    from services.deletion.settings import DeletionSettings
    from services.gateway.app import SERVICES as GATEWAY_CHECKS
    from services.gateway.settings import GatewaySettings, ServiceUrls
    from services.merge.settings import MergeSettings
    from shared import topology

    settings = {"contacts": ContactsSettings, "channels": ChannelsSettings,
                "merge": MergeSettings, "deletion": DeletionSettings, "gateway": GatewaySettings}
    assert [s.name for s in topology.SERVICES] == list(settings)
    for spec in topology.SERVICES:
        fields = settings[spec.name].model_fields
        assert fields["http_port"].default == spec.port
        assert fields["mongo_database"].default == f"contacthub_{spec.name}" == spec.database
        assert settings[spec.name].model_config.get("env_prefix") == spec.env_prefix
        assert spec.module == f"services.{spec.name}"
        assert spec.test_port == spec.port + 10_000
    urls = ServiceUrls().model_dump()
    assert urls == {s.name: f"http://127.0.0.1:{s.port}" for s in topology.BACKENDS}
    assert GATEWAY_CHECKS == ("contacts", "channels", "merge", "deletion")


def test_the_stack_library_never_imports_its_command_line() -> None:
    code = "import sys, deploy.local.stack; print('deploy.local.cli' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).resolve().parents[2])
    assert shown.stdout.strip() == "False"
    usage = subprocess.run([sys.executable, "-m", "deploy.local.stack", "--help"],
                           capture_output=True, text=True, check=False,
                           cwd=Path(__file__).resolve().parents[2])
    assert usage.returncode == 0 and "servers-up" in usage.stdout
