"""The system's processes in one place: every service and the gateway, with their ports,
settings prefix, database and module.

Read by the local stack (``deploy/local/stack``), the gateway (service URLs, health
checks), each service's settings (port and database defaults) and the benchmarks. Adding
a service is adding a row here (and its ``services/<name>/`` package).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Test ports are the default ports shifted by this much (``StackConfig.for_tests``).
TEST_PORT_SHIFT = 10_000


@dataclass(frozen=True)
class ServiceSpec:
    """One process of the system: ``python -m services.<name>``, configured by ``<NAME>_*``."""

    name: str
    #: Port of the development stack (and of the service's settings default).
    port: int

    @property
    def test_port(self) -> int:
        """Port of the test stack (before ``CONTACTHUB_TEST_PORT_OFFSET``)."""
        return self.port + TEST_PORT_SHIFT

    @property
    def env_prefix(self) -> str:
        """Prefix of the environment variables the process reads its settings from."""
        return f"{self.name.upper()}_"

    @property
    def database(self) -> str:
        """The MongoDB database the process owns (no other process reads it)."""
        return f"contacthub_{self.name}"

    @property
    def module(self) -> str:
        """The module started with ``python -m``."""
        return f"services.{self.name}"

    @property
    def local_url(self) -> str:
        """Base URL of the process on the development stack."""
        return f"http://127.0.0.1:{self.port}"


CONTACTS = ServiceSpec("contacts", 8101)
CHANNELS = ServiceSpec("channels", 8102)
MERGE = ServiceSpec("merge", 8103)
DELETION = ServiceSpec("deletion", 8104)
GATEWAY = ServiceSpec("gateway", 8000)

#: The services behind the gateway, in start order.
BACKENDS: tuple[ServiceSpec, ...] = (CONTACTS, CHANNELS, MERGE, DELETION)
#: Every process of the system in start order; the gateway comes last.
SERVICES: tuple[ServiceSpec, ...] = (*BACKENDS, GATEWAY)
SERVICES_BY_NAME: dict[str, ServiceSpec] = {s.name: s for s in SERVICES}
