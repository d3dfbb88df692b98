"""`python -m services.channels`: run the channels service in the foreground."""

from services.channels.app import build_app
from services.channels.settings import ChannelsSettings
from shared.service import serve

settings = ChannelsSettings()  # type: ignore[call-arg]
serve(build_app(settings), settings)
