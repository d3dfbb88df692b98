"""Settings of the `merge` service (env prefix `MERGE_`)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class MergeSettings(ServiceSettings):
    """Everything the merge service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="MERGE_")

    service_name: str = "merge"
    mongo_database: str = "contacthub_merge"
    http_port: int = 8103
