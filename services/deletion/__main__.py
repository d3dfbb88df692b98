"""`python -m services.deletion`: run the deletion service in the foreground."""

from services.deletion.app import build_app
from services.deletion.settings import DeletionSettings
from shared.service import serve

settings = DeletionSettings()  # type: ignore[call-arg]
serve(build_app(settings), settings)
