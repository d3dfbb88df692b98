"""Who a process is, beyond its pid: what lets a restarted replica prove that the holder of a
lease it finds is its own dead predecessor, and take the lease back without waiting.

A lease names its holder by ``instance`` (the replica: ``<service>@<hostname>`` unless the
operator sets an id), ``host`` (hostname and PID namespace: where ``pid`` means something)
and ``pid``. A holder of the same instance is proven gone when

- it ran where we run (same ``host``) and its process no longer exists (or is a zombie), or
  it had our own pid and is not one of this process's live relays (a container restarted
  with the same pid); or
- the operator declared the instance id (``declared``): one live process per id at most
  (a StatefulSet pod name, a compose replica name), so a holder with our id and another
  owner is a previous incarnation.

Anything else (another replica, another machine with an undeclared id) is not proven and
waits for the lease to expire.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from typing import Any


def _pid_namespace() -> str:
    with contextlib.suppress(OSError):
        return os.readlink("/proc/self/ns/pid")
    return ""


#: Where a pid means one process: this machine (or container) and its PID namespace.
HOST = f"{socket.gethostname()}/{_pid_namespace()}"


@dataclass(frozen=True)
class ReplicaIdentity:
    """A replica's stable name, and whether the operator declared it unique."""

    instance: str
    #: True when set explicitly (``<PREFIX>INSTANCE_ID``): one live process per id at most.
    declared: bool = False

    @classmethod
    def of_service(cls, service_name: str, instance_id: str = "") -> ReplicaIdentity:
        """The identity from settings: the declared id, else ``<service>@<hostname>``."""
        if instance_id:
            return cls(instance=instance_id, declared=True)
        return cls(instance=f"{service_name}@{socket.gethostname()}")

    def holder_fields(self) -> dict[str, Any]:
        """What a lease records about its holder, for ``holder_gone``."""
        return {"instance": self.instance, "host": HOST, "pid": os.getpid()}

    def holder_gone(self, holder: dict[str, Any], *, live_owners: set[str]) -> bool:
        """True when ``holder`` (a lease document) is proven to be a dead incarnation of this
        replica; ``live_owners``: the owners of this process's running relays."""
        if holder.get("instance") != self.instance:
            return False
        if holder.get("host") == HOST:
            pid = holder.get("pid")
            if not isinstance(pid, int):
                return False
            if pid == os.getpid():
                return holder.get("owner") not in live_owners
            return not process_exists(pid)
        return self.declared


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` runs here (a zombie, killed and not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    with contextlib.suppress(OSError, IndexError), open(f"/proc/{pid}/stat") as stat:
        # "pid (comm) S ...": the state follows the last parenthesis
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    return True
