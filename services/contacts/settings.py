"""Settings of the `contacts` service (env prefix `CONTACTS_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topology import CONTACTS


class ContactsSettings(ServiceSettings):
    """Everything the contacts service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix=CONTACTS.env_prefix)

    service_name: str = CONTACTS.name
    mongo_database: str = CONTACTS.database
    http_port: int = CONTACTS.port
    #: Contacts updated per transaction when a catalog tag is renamed or deleted.
    tag_batch_size: int = Field(default=100, ge=1)
    #: Commands applied per transaction by the commands subscriber (a batch of at most this).
    command_batch_size: int = Field(default=100, ge=1, le=1000)
