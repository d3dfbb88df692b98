"""MongoDB repositories of the contacts service: contacts, the tag catalog, custom fields.

Every query is filtered by workspace. Writes take the unit of work's session. `ContactStore`
(`contacts.py`) and `CatalogStore` (`catalog.py`) implement
`handlers.repositories.ContactRepository` and `CatalogRepository`; the mapping between
stored documents and the domain's aggregates (`documents.py`) and the list query's MongoDB
filter (`query.py`) live here and nowhere else.
"""

from services.contacts.store.catalog import CatalogStore
from services.contacts.store.contacts import ContactStore
from services.contacts.store.documents import (
    SEARCHED,
    Session,
    document_id,
    from_document,
    search_text,
    to_document,
)
from services.contacts.store.query import mongo_filter, with_clause

__all__ = [
    "SEARCHED",
    "CatalogStore",
    "ContactStore",
    "Session",
    "document_id",
    "from_document",
    "mongo_filter",
    "search_text",
    "to_document",
    "with_clause",
]
