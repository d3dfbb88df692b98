"""`python -m services.gateway`: run the gateway in the foreground."""

import uvicorn

from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings
from shared.logs import configure_logging

settings = GatewaySettings()  # type: ignore[call-arg]
configure_logging(service="gateway", level=settings.log_level)
uvicorn.run(build_app(settings), host=settings.http_host, port=settings.http_port,
            log_config=None, access_log=False, timeout_graceful_shutdown=10)
