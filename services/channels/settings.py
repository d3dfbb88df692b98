"""Settings of the `channels` service (env prefix `CHANNELS_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topology import CHANNELS


class ChannelsSettings(ServiceSettings):
    """Everything the channels service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix=CHANNELS.env_prefix)

    service_name: str = CHANNELS.name
    mongo_database: str = CHANNELS.database
    http_port: int = CHANNELS.port
    #: How long a webhook waits for the broker to acknowledge its events before it answers
    #: the provider 503 (the provider retries), seconds.
    webhook_publish_timeout_s: float = Field(default=5.0, gt=0)
    #: Most messages one inbound (or contact events) batch applies in one transaction.
    inbound_batch_size: int = Field(default=100, ge=1, le=1000)
