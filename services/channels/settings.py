"""Settings of the `channels` service (env prefix `CHANNELS_`)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ChannelsSettings(ServiceSettings):
    """Everything the channels service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CHANNELS_")

    service_name: str = "channels"
    mongo_database: str = "contacthub_channels"
    http_port: int = 8102
