"""The MongoDB repositories of the channels service (nothing outside `store/` speaks MongoDB)."""

from services.channels.store.channels import ChannelStore, from_document, to_document
from services.channels.store.messages import MessageStore

__all__ = ["ChannelStore", "MessageStore", "from_document", "to_document"]
