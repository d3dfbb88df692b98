"""Settings of the gateway (env prefix ``GATEWAY_``)."""

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import HttpSettings, InternalAuthSettings, MongoSettings


class ServiceUrls(BaseModel):
    """Base URLs of the services' internal HTTP APIs."""

    contacts: str = "http://127.0.0.1:8101"
    channels: str = "http://127.0.0.1:8102"
    merge: str = "http://127.0.0.1:8103"
    deletion: str = "http://127.0.0.1:8104"


class GatewaySettings(BaseSettings, MongoSettings, HttpSettings, InternalAuthSettings):
    """Everything the gateway reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore",
                                      env_nested_delimiter="__")

    service_name: str = "gateway"
    mongo_database: str = "contacthub_gateway"
    http_port: int = 8000
    log_level: str = "INFO"
    public_url: str = "http://127.0.0.1:8000"
    service_urls: ServiceUrls = Field(default_factory=ServiceUrls)
    #: Timeout of one call to a service, seconds.
    service_timeout_s: float = Field(default=10.0, gt=0)
    #: Per-token rate limit: at most ``rate_limit_requests`` per ``rate_limit_window_s``.
    rate_limit_requests: int = Field(default=100, ge=1)
    rate_limit_window_s: float = Field(default=1.0, gt=0)
    #: Unknown tokens presented per client address before the gateway answers 429 to tokens it
    #: does not know (no database lookup for them) until the window ends.
    failed_auth_limit: int = Field(default=100, ge=1)
    failed_auth_window_s: float = Field(default=60.0, gt=0)
    #: Largest request body accepted, bytes.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
