"""Settings of the `contacts` service (env prefix `CONTACTS_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ContactsSettings(ServiceSettings):
    """Everything the contacts service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CONTACTS_")

    service_name: str = "contacts"
    mongo_database: str = "contacthub_contacts"
    http_port: int = 8101
    #: Contacts updated per transaction when a catalog tag is renamed or deleted.
    tag_batch_size: int = Field(default=100, ge=1)
