"""The MongoDB repositories of the channels service (nothing outside `store/` speaks MongoDB)."""

from services.channels.store.channels import ChannelStore, from_document, to_document

__all__ = ["ChannelStore", "from_document", "to_document"]
