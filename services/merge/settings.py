"""Settings of the `merge` service (env prefix `MERGE_`)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topology import MERGE


class MergeSettings(ServiceSettings):
    """Everything the merge service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix=MERGE.env_prefix)

    service_name: str = MERGE.name
    mongo_database: str = MERGE.database
    http_port: int = MERGE.port
