"""Start, find and stop local background processes through PID files.

Generic plumbing under ``deploy.local.stack``: nothing here knows about Kafka,
MongoDB or our services. A process is started in its own session (so its PID
is also its process-group id and ``stop`` can signal the whole group), its
PID goes to a file, its output to a log file. Only processes that a PID file
names are ever signalled, and only while their command line still carries the
marker they were started with (guards against a recycled PID).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

#: Children started by this Python process, so that ``is_alive`` can reap them
#: (a dead child that nobody waited for still answers ``kill(pid, 0)``).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class StackError(RuntimeError):
    """A local process could not be started, reached or stopped."""


@dataclass(frozen=True, kw_only=True)
class ProcessSpec:
    """How to start one named process and how to tell that it is ready."""

    name: str
    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    #: Substring of the process's command line that identifies it as ours.
    marker: str
    #: Answers True once the process serves requests (port open, ping, /health).
    ready: Callable[[], bool]
    #: What ``ready`` probes, for messages ("127.0.0.1:9092", "http://…/health").
    endpoint: str
    pid_file: Path
    log_file: Path
    stop_timeout_s: float = 10.0
    #: Run just before a fresh start (not on reuse), e.g. to wipe a data dir.
    before_start: Callable[[], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Started:
    """Outcome of ``ensure_running`` for one process."""

    name: str
    pid: int
    #: True when a healthy process named by the PID file was kept as it was.
    reused: bool


def read_pid(pid_file: Path) -> int | None:
    """PID written in ``pid_file``, or None if the file is missing or garbled."""
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def is_alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _CHILDREN[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # Field 3, after the parenthesised command name, is the state letter.
    return stat.rpartition(")")[2].split()[0] not in {"Z", "X"}


def command_line(pid: int) -> str | None:
    """The command line of ``pid`` as one string, or None where /proc is unavailable."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace")


def is_ours(pid: int, marker: str) -> bool:
    """Whether the live process ``pid`` still looks like the one we started."""
    if not is_alive(pid):
        return False
    cmdline = command_line(pid)
    return cmdline is None or marker in cmdline


def running_pid(spec: ProcessSpec) -> int | None:
    """PID of the live process ``spec.pid_file`` names; a stale PID file is removed."""
    pid = read_pid(spec.pid_file)
    if pid is None:
        return None
    if is_ours(pid, spec.marker):
        return pid
    spec.pid_file.unlink(missing_ok=True)
    return None


def log_tail(log_file: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, indented, for error messages."""
    try:
        text = log_file.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return "    (no log file)"
    return "\n".join(f"    {line}" for line in text) or "    (log is empty)"


def _spawn(spec: ProcessSpec) -> int:
    spec.pid_file.parent.mkdir(parents=True, exist_ok=True)
    spec.log_file.parent.mkdir(parents=True, exist_ok=True)
    if spec.before_start is not None:
        spec.before_start()
    with spec.log_file.open("ab") as log:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"\n=== {stamp} starting: {' '.join(spec.argv)}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                list(spec.argv),
                cwd=spec.cwd,
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"{spec.name}: cannot start {spec.argv[0]}: {exc}") from exc
    _CHILDREN[proc.pid] = proc
    spec.pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def _wait_ready(spec: ProcessSpec, pid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if not is_alive(pid):
            spec.pid_file.unlink(missing_ok=True)
            raise StackError(
                f"{spec.name} (pid {pid}) exited before {spec.endpoint} answered; "
                f"see {spec.log_file}:\n{log_tail(spec.log_file)}"
            )
        if spec.ready():
            return
        if time.monotonic() > deadline:
            stop(spec)
            raise StackError(
                f"{spec.name} (pid {pid}) did not answer on {spec.endpoint} within "
                f"{timeout_s:.0f}s and was stopped; see {spec.log_file}:\n"
                f"{log_tail(spec.log_file)}"
            )
        time.sleep(0.1)


def ensure_running(specs: Sequence[ProcessSpec], *, timeout_s: float) -> list[Started]:
    """Start every process of ``specs`` that is not already running, then wait for all.

    A process named by a live PID file is reused (and waited for, in case it is
    still starting). A port that answers without a live PID file belongs to
    someone else: that is an error rather than a silent reuse. The processes
    start together and are waited for in order, so several slow starters cost
    the time of the slowest one.
    """
    begun: list[tuple[ProcessSpec, Started]] = []
    try:
        for spec in specs:
            pid = running_pid(spec)
            if pid is not None:
                begun.append((spec, Started(spec.name, pid, reused=True)))
                continue
            if spec.ready():
                raise StackError(
                    f"{spec.name}: {spec.endpoint} already answers but no live process is "
                    f"named by {spec.pid_file}; something else uses that port — stop it or "
                    "choose other ports"
                )
            begun.append((spec, Started(spec.name, _spawn(spec), reused=False)))
        for spec, started in begun:
            _wait_ready(spec, started.pid, timeout_s)
    except BaseException:
        for spec, started in begun:
            if not started.reused:
                stop(spec)
        raise
    return [started for _, started in begun]


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group led by ``pid`` (or to ``pid`` alone if it leads none)."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def stop(spec: ProcessSpec) -> int | None:
    """Stop the process ``spec.pid_file`` names: SIGTERM, wait, then SIGKILL.

    Returns the PID that was stopped, or None if the PID file named no live
    process of ours. The PID file is removed in every case.
    """
    pid = running_pid(spec)
    if pid is None:
        spec.pid_file.unlink(missing_ok=True)
        return None
    try:
        leads_group = os.getpgid(pid) == pid
    except ProcessLookupError:
        leads_group = False
    _signal_group(pid, signal.SIGTERM)
    if not _wait_gone(pid, spec.stop_timeout_s):
        _signal_group(pid, signal.SIGKILL)
        if not _wait_gone(pid, 5.0):
            raise StackError(f"{spec.name} (pid {pid}) survived SIGKILL")
    if leads_group and _group_alive(pid):
        # Children of the leader that outlived it: same group, so still ours.
        time.sleep(1.0)
        if _group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    _CHILDREN.pop(pid, None)
    spec.pid_file.unlink(missing_ok=True)
    return pid
