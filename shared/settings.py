"""Settings mixins every service composes into its own settings class.

Each service declares one ``BaseSettings`` subclass with its own env prefix
(``CONTACTS_``, ``CHANNELS_``, ``MERGE_``, ``DELETION_``, ``GATEWAY_``), built
from these mixins. Values fail fast: a missing or default secret refuses to
start the process.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Secrets that must never reach a running service.
FORBIDDEN_SECRETS = frozenset({"", "changethis", "changeme", "secret", "password"})


class Topics(BaseModel):
    """Topic names of the system; every producer and consumer reads them from here."""

    contacts_events: str = "contacts.events.v1"
    contacts_commands: str = "contacts.commands.v1"
    channels_inbound: str = "channels.inbound.v1"
    channels_events: str = "channels.events.v1"
    merges_events: str = "merges.events.v1"
    deletion_events: str = "deletion.events.v1"

    def all(self) -> list[str]:
        """Every topic name, in declaration order."""
        return [str(v) for v in self.model_dump().values()]


class KafkaSettings(BaseModel):
    """How to reach the broker and how our consumers behave."""

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    #: Partitions of every topic we create (scale-out unit per consumer group).
    kafka_partitions: int = Field(default=6, ge=1)
    topics: Topics = Field(default_factory=Topics)


class MongoSettings(BaseModel):
    """How to reach MongoDB and which database this service owns."""

    #: The local default. ``retryWrites=false`` is for the local server only (SecantusDB's
    #: retryable-write registry is a cliff, docs/operations.md); production URLs keep the
    #: driver's default.
    mongo_url: str = "mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false"
    mongo_database: str
    #: How often the process deletes its expired records (shared/retention.py); each sweep
    #: costs what expired since the last one.
    retention_sweep_s: float = Field(default=10.0, gt=0)


class HttpSettings(BaseModel):
    """Where the service's HTTP API listens."""

    http_host: str = "127.0.0.1"
    http_port: int = Field(ge=1, le=65535)

    @field_validator("http_port")
    @classmethod
    def _a_port(cls, value: int) -> int:
        # Also checked here because a service's settings class redeclares ``http_port``
        # with its own default, which drops the Field's bounds; validators are inherited.
        if not 1 <= value <= 65535:
            raise ValueError("http_port must be between 1 and 65535")
        return value


class InternalAuthSettings(BaseModel):
    """The shared token the gateway presents to services on internal calls."""

    internal_token: str = Field(min_length=16)

    @field_validator("internal_token")
    @classmethod
    def _not_a_default(cls, value: str) -> str:
        if value.lower() in FORBIDDEN_SECRETS:
            raise ValueError("internal_token is a default value; set a real secret")
        return value


class ServiceSettings(
    BaseSettings, KafkaSettings, MongoSettings, HttpSettings, InternalAuthSettings
):
    """Base of every back-end service's settings (Kafka + Mongo + HTTP + internal auth)."""

    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    service_name: str
    log_level: str = "INFO"
    #: How often the outbox relay polls when nothing woke it up.
    outbox_poll_interval_s: float = Field(default=0.5, gt=0)
    #: This replica's name, unique among the service's live processes (a StatefulSet pod
    #: name, a compose replica name). Empty: ``<service>@<hostname>``, and only a restart on
    #: the same machine or container takes the outbox lease back at once (``shared.replica``).
    instance_id: str = ""
