"""Settings of the `deletion` service (env prefix `DELETION_`)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topology import DELETION


class DeletionSettings(ServiceSettings):
    """Everything the deletion service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix=DELETION.env_prefix)

    service_name: str = DELETION.name
    mongo_database: str = DELETION.database
    http_port: int = DELETION.port
