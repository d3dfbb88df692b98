"""Settings of the gateway (env prefix ``GATEWAY_``)."""

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import HttpSettings, InternalAuthSettings, MongoSettings
from shared.topology import CHANNELS, CONTACTS, DELETION, GATEWAY, MERGE


class ServiceUrls(BaseModel):
    """Base URLs of the services' internal HTTP APIs (one field per ``topology.BACKENDS``)."""

    contacts: str = CONTACTS.local_url
    channels: str = CHANNELS.local_url
    merge: str = MERGE.local_url
    deletion: str = DELETION.local_url


class GatewaySettings(BaseSettings, MongoSettings, HttpSettings, InternalAuthSettings):
    """Everything the gateway reads from its environment."""

    model_config = SettingsConfigDict(env_prefix=GATEWAY.env_prefix, extra="ignore",
                                      env_nested_delimiter="__")

    service_name: str = GATEWAY.name
    mongo_database: str = GATEWAY.database
    http_port: int = GATEWAY.port
    log_level: str = "INFO"
    public_url: str = GATEWAY.local_url
    service_urls: ServiceUrls = Field(default_factory=ServiceUrls)
    #: Timeout of one call to a service, seconds.
    service_timeout_s: float = Field(default=10.0, gt=0)
    #: Per-token rate limit: at most ``rate_limit_requests`` per ``rate_limit_window_s``.
    rate_limit_requests: int = Field(default=100, ge=1)
    rate_limit_window_s: float = Field(default=1.0, gt=0)
    #: How often each replica adds its counts to the shared rate-limit counters, seconds.
    rate_limit_flush_s: float = Field(default=0.1, gt=0)
    #: How long a token → caller lookup is cached per process: a token revoked through another
    #: process (or the admin CLI) keeps working at most this long.
    token_cache_s: float = Field(default=10.0, ge=0)
    #: How long a signed token the database does not know (revoked) is refused from memory.
    token_unknown_cache_s: float = Field(default=60.0, ge=0)
    #: Provider webhooks: at most this many calls per webhook key (one channel) per window,
    #: per gateway process (no shared counter: a webhook answers within milliseconds).
    webhook_rate_limit_requests: int = Field(default=1000, ge=1)
    webhook_rate_limit_window_s: float = Field(default=1.0, gt=0)
    #: Largest request body accepted, bytes.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
