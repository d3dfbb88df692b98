"""`python -m services.contacts`: run the contacts service in the foreground."""

from services.contacts.app import build_app
from services.contacts.settings import ContactsSettings
from shared.service import serve

settings = ContactsSettings()  # type: ignore[call-arg]
serve(build_app(settings), settings)
