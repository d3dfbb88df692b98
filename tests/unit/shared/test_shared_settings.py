"""Settings fail fast: a process with a default or short internal token never starts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from services.gateway.settings import GatewaySettings
from shared.settings import FORBIDDEN_SECRETS, InternalAuthSettings, ServiceSettings

GOOD_TOKEN = "k3Jq9vX2mP8wL5tR"  # 16 characters


class UnitSettings(ServiceSettings):
    """A service's settings class, as every service declares one."""

    model_config = SettingsConfigDict(env_prefix="UNITSVC_")

    service_name: str = "unitsvc"
    mongo_database: str = "contacthub_unitsvc"
    http_port: int = 8999


def refused_field(exc: ValidationError) -> set[str]:
    return {str(e["loc"][0]) for e in exc.errors()}


@pytest.mark.parametrize("token", sorted(FORBIDDEN_SECRETS | {"CHANGETHIS", "ChangeMe"}))
def test_a_default_secret_is_refused(token: str) -> None:
    with pytest.raises(ValidationError) as caught:
        InternalAuthSettings(internal_token=token)
    assert refused_field(caught.value) == {"internal_token"}


@pytest.mark.parametrize("token", ["short", "x" * 15, GOOD_TOKEN[:-1]])
def test_a_token_shorter_than_16_characters_is_refused(token: str) -> None:
    with pytest.raises(ValidationError) as caught:
        InternalAuthSettings(internal_token=token)
    assert refused_field(caught.value) == {"internal_token"}
    assert "16" in str(caught.value)


def test_a_real_secret_is_accepted() -> None:
    assert InternalAuthSettings(internal_token=GOOD_TOKEN).internal_token == GOOD_TOKEN


def test_a_service_does_not_start_with_the_default_token_from_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UNITSVC_INTERNAL_TOKEN", "changethis")
    with pytest.raises(ValidationError) as caught:
        UnitSettings()  # type: ignore[call-arg]
    assert refused_field(caught.value) == {"internal_token"}

    monkeypatch.setenv("UNITSVC_INTERNAL_TOKEN", GOOD_TOKEN)
    assert UnitSettings().internal_token == GOOD_TOKEN  # type: ignore[call-arg]


def test_a_service_does_not_start_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNITSVC_INTERNAL_TOKEN", raising=False)
    with pytest.raises(ValidationError) as caught:
        UnitSettings()  # type: ignore[call-arg]
    assert refused_field(caught.value) == {"internal_token"}


def test_the_gateway_refuses_a_default_token_and_a_bad_port_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_INTERNAL_TOKEN", "changethis")
    with pytest.raises(ValidationError):
        GatewaySettings()  # type: ignore[call-arg]
    monkeypatch.delenv("GATEWAY_INTERNAL_TOKEN")
    with pytest.raises(ValidationError):
        GatewaySettings()  # type: ignore[call-arg]
    monkeypatch.setenv("GATEWAY_INTERNAL_TOKEN", GOOD_TOKEN)
    assert GatewaySettings().internal_token == GOOD_TOKEN  # type: ignore[call-arg]
    monkeypatch.setenv("GATEWAY_HTTP_PORT", "70000")
    with pytest.raises(ValidationError) as caught:
        GatewaySettings()  # type: ignore[call-arg]
    assert refused_field(caught.value) == {"http_port"}


@pytest.mark.parametrize(
    ("name", "value"),
    [("UNITSVC_HTTP_PORT", "70000"), ("UNITSVC_HTTP_PORT", "zero"),
     ("UNITSVC_KAFKA_SESSION_TIMEOUT_MS", "10"), ("UNITSVC_OUTBOX_POLL_INTERVAL_S", "0")],
)
def test_out_of_range_values_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("UNITSVC_INTERNAL_TOKEN", GOOD_TOKEN)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        UnitSettings()  # type: ignore[call-arg]
    assert refused_field(caught.value) == {name.removeprefix("UNITSVC_").lower()}
