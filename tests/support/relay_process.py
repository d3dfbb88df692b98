"""An outbox relay in its own OS process, so a test can kill it at the worst moment.

    python -m tests.support.relay_process --mongo-url URL --db NAME --bootstrap HOST:PORT \
        [--pause-after-send FILE] [--lease-s SECONDS] [--client-id NAME] [--instance NAME]

Runs ``OutboxRelay.run()`` on the database's outbox. With ``--pause-after-send``,
the relay's ``after_send`` hook fires after the first batch the broker
acknowledged, *before* the relay records its position: it writes ``FILE`` (JSON: pid
and the ids of the batch, written atomically) and then sleeps forever, so the
test can SIGKILL the process exactly between publish and record. With ``--instance``, the
relay runs as that replica (``shared.replica``): restarted with the same name, it takes
back the lease its killed predecessor held. With ``--started FILE``, it writes ``FILE`` once
its producer is connected (JSON: pid, ``time.monotonic()``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from shared.mongo import Document, make_mongo_client
from shared.outbox import OutboxRelay
from shared.replica import ReplicaIdentity
from shared.settings import MongoSettings


def _write_atomically(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(content)
    os.replace(tmp, path)


def pause_after_first_send(marker: Path) -> Any:
    """An ``after_send`` hook: mark the first acknowledged batch in ``marker``, then hang."""

    async def hook(batch: list[Document]) -> None:
        ids = [str(doc["_id"]) for doc in batch]
        _write_atomically(marker, json.dumps({"pid": os.getpid(), "ids": ids}))
        await asyncio.Event().wait()  # never set: the test kills us here

    return hook


async def main(args: argparse.Namespace) -> None:
    """Relay the outbox of ``args.db`` until killed."""
    settings = MongoSettings(mongo_url=args.mongo_url, mongo_database=args.db)
    client = make_mongo_client(settings, app_name=args.client_id)
    relay = OutboxRelay(
        client[args.db],
        bootstrap_servers=args.bootstrap,
        client_id=args.client_id,
        poll_interval_s=0.1,
        lease_s=args.lease_s,
        after_send=pause_after_first_send(Path(args.pause_after_send))
        if args.pause_after_send
        else None,
        identity=ReplicaIdentity(instance=args.instance) if args.instance else None,
    )
    await relay.start()
    if args.started:
        _write_atomically(Path(args.started),
                          json.dumps({"pid": os.getpid(), "monotonic": time.monotonic()}))
    try:
        await relay.run()
    finally:
        await relay.stop()
        await client.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of the relay process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mongo-url", required=True)
    parser.add_argument("--db", required=True, help="database whose outbox is relayed")
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers")
    parser.add_argument("--pause-after-send", default=None, metavar="FILE",
                        help="after the first acknowledged batch, write FILE and hang")
    parser.add_argument("--lease-s", type=float, default=10.0, help="relay lease, seconds")
    parser.add_argument("--client-id", default="relay-process")
    parser.add_argument("--instance", default=None, help="replica name (shared.replica)")
    parser.add_argument("--started", default=None, metavar="FILE",
                        help="write FILE once the producer is connected")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
