"""Command line of the local stack: ``python -m deploy.local.stack <command>``.

Progress goes to stderr; the JSON a command answers (the demo workspace of
``up``, the workspace of ``workspace``) goes to stdout, so it can be piped.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deploy.local.procs import StackError, Started
from deploy.local.stack import (
    GATEWAY,
    SERVICES,
    StackConfig,
    _admin,
    create_workspace,
    ensure_demo_workspace,
    mongo_ping,
    service_exists,
    start_servers,
    start_services,
    status,
    stop_all,
)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _report(cfg: StackConfig, started: Sequence[Started]) -> None:
    for s in started:
        what = "already running" if s.reused else "started"
        _say(f"{s.name:<9} {what:<16} pid {s.pid:<7} log {cfg.log_file(s.name)}")


def cmd_servers_up(cfg: StackConfig) -> int:
    """Start the broker and the database, create the topics."""
    _report(cfg, start_servers(cfg))
    _say(f"kafka {cfg.kafka_bootstrap}   mongo {cfg.mongo_url}")
    return 0


def cmd_up(cfg: StackConfig) -> int:
    """Start everything in the background and print the demo workspace."""
    cmd_servers_up(cfg)
    _report(cfg, start_services(cfg))
    missing = [s.name for s in SERVICES if not service_exists(cfg, s.name)]
    if missing:
        _say(f"not started (no services/<name>/__main__.py yet): {', '.join(missing)}")
    if not service_exists(cfg, GATEWAY):
        _say("no gateway yet: demo workspace not created")
        return 0
    demo = ensure_demo_workspace(cfg)
    print(json.dumps(demo), flush=True)
    _say(f"demo workspace written to {cfg.demo_file}")
    return 0


def cmd_down(cfg: StackConfig) -> int:
    """Stop everything the stack's PID files name."""
    stopped = stop_all(cfg)
    for name, pid in stopped:
        _say(f"{name:<9} stopped (pid {pid})")
    if not stopped:
        _say("nothing was running")
    return 0


def cmd_status(cfg: StackConfig) -> int:
    """Print one line per process."""
    for row in status(cfg):
        pid = row["pid"] if row["pid"] is not None else "-"
        print(f"{row['name']:<9} {row['state']:<14} pid {pid!s:<7} {row['endpoint'] or ''}")
    return 0


def cmd_run(cfg: StackConfig) -> int:
    """``up`` in the foreground; Ctrl-C or SIGTERM stops everything."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        cmd_up(cfg)
        _say("stack running; Ctrl-C stops it")
        reported: set[str] = set()
        while True:
            time.sleep(2)
            for row in status(cfg):
                if row["state"] == "stopped" and row["name"] not in reported:
                    reported.add(row["name"])
                    _say(f"warning: {row['name']} is not running; see {row['log']}")
    except KeyboardInterrupt:
        _say("stopping…")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cmd_down(cfg)
    return 0


def cmd_workspace(cfg: StackConfig, name: str) -> int:
    """Create a workspace on the running stack and print its JSON."""
    if not mongo_ping(cfg.mongo_url):
        raise StackError(f"no database answers on {cfg.mongo_url}: run `make up` first")
    print(json.dumps(create_workspace(cfg, name)), flush=True)
    return 0


def cmd_token(cfg: StackConfig, args: argparse.Namespace) -> int:
    """List, issue, rotate or revoke API tokens through the gateway's admin CLI; print JSON."""
    if not mongo_ping(cfg.mongo_url):
        raise StackError(f"no database answers on {cfg.mongo_url}: run `make up` first")
    if args.action == "list":
        argv = ["list-tokens", args.workspace]
    elif args.action == "revoke":
        argv = ["revoke-token", args.workspace, args.token_id]
    else:
        argv = [f"{args.action}-token", args.workspace, "--user", args.user]
    result = _admin(cfg, *argv)
    if result.returncode != 0:
        raise StackError(f"token {args.action} failed: {result.stderr.strip() or result.stdout}")
    print(result.stdout.strip(), flush=True)
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.stack", description=__doc__)
    parser.add_argument(
        "--profile",
        choices=["local", "test"],
        default="local",
        help="local: ports 9092/27017/8000/81xx in var/; test: 19092/27117/18000/181xx in var/test",
    )
    parser.add_argument("--var-dir", type=Path, help="override the var dir")
    parser.add_argument("--broker-port", type=int)
    parser.add_argument("--mongo-port", type=int)
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="NAME=PORT",
        help="override one service's port, e.g. --port gateway=8080",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("servers-up", "up", "down", "status", "run"):
        sub.add_parser(name)
    ws = sub.add_parser("workspace", help="create a workspace and print its JSON")
    ws.add_argument("--name", required=True)
    token = sub.add_parser("token", help="API tokens: list, issue, rotate, revoke")
    actions = token.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="a workspace's tokens (ids only)").add_argument("workspace")
    for action, what in (("issue", "a new token for a user (older ones keep working)"),
                         ("rotate", "a new token for a user, the user's older ones revoked")):
        command = actions.add_parser(action, help=what)
        command.add_argument("workspace")
        command.add_argument("--user", required=True, help="the user's id or email")
    revoke = actions.add_parser("revoke", help="revoke one token (stops working within the "
                                "gateway's token cache time, 10 s by default)")
    revoke.add_argument("workspace")
    revoke.add_argument("token_id")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> StackConfig:
    """Build the ``StackConfig`` the CLI flags describe."""
    overrides: dict[str, Any] = {}
    if args.var_dir is not None:
        overrides["var_dir"] = args.var_dir.resolve()
    if args.broker_port is not None:
        overrides["broker_port"] = args.broker_port
    if args.mongo_port is not None:
        overrides["mongo_port"] = args.mongo_port
    cfg = StackConfig.for_tests() if args.profile == "test" else StackConfig()
    ports = dict(cfg.service_ports)
    for item in args.port:
        name, _, port = item.partition("=")
        if name not in ports or not port.isdigit():
            raise SystemExit(f"--port {item!r}: expected NAME=PORT with NAME in {sorted(ports)}")
        ports[name] = int(port)
    overrides["service_ports"] = ports
    return dataclasses.replace(cfg, **overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m deploy.local.stack``."""
    args = _parse_args(argv)
    cfg = config_from_args(args)
    commands = {
        "servers-up": cmd_servers_up,
        "up": cmd_up,
        "down": cmd_down,
        "status": cmd_status,
        "run": cmd_run,
    }
    try:
        if args.command == "workspace":
            return cmd_workspace(cfg, args.name)
        if args.command == "token":
            return cmd_token(cfg, args)
        return commands[args.command](cfg)
    except StackError as exc:
        _say(f"error: {exc}")
        return 1
