"""Settings of the `channels` service (env prefix `CHANNELS_`)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topology import CHANNELS


class ChannelsSettings(ServiceSettings):
    """Everything the channels service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix=CHANNELS.env_prefix)

    service_name: str = CHANNELS.name
    mongo_database: str = CHANNELS.database
    http_port: int = CHANNELS.port
