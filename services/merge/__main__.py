"""`python -m services.merge`: run the merge service in the foreground."""

from services.merge.app import build_app
from services.merge.settings import MergeSettings
from shared.service import serve

settings = MergeSettings()  # type: ignore[call-arg]
serve(build_app(settings), settings)
