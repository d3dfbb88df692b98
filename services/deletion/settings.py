"""Settings of the `deletion` service (env prefix `DELETION_`)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class DeletionSettings(ServiceSettings):
    """Everything the deletion service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="DELETION_")

    service_name: str = "deletion"
    mongo_database: str = "contacthub_deletion"
    http_port: int = 8104
