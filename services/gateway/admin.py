"""Operator commands of the gateway: ``python -m services.gateway.admin create-workspace``."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.gateway.store import WorkspaceStore
from shared.mongo import make_mongo_client
from shared.settings import MongoSettings
from shared.topology import GATEWAY


class AdminSettings(BaseSettings, MongoSettings):
    """The part of the gateway's settings the admin commands need (env prefix ``GATEWAY_``)."""

    model_config = SettingsConfigDict(env_prefix=GATEWAY.env_prefix, extra="ignore")
    mongo_database: str = GATEWAY.database


async def create_workspace(
    settings: MongoSettings, *, name: str, region: str | None
) -> dict[str, Any]:
    """Create a workspace with an owner, a manager and an agent; return ids and tokens."""
    client = make_mongo_client(settings, app_name="gateway-admin")
    try:
        store = WorkspaceStore(client[settings.mongo_database])
        await store.ensure_indexes()
        return await store.create_workspace(name=name, default_region=region)
    finally:
        await client.close()


async def workspace_exists(settings: MongoSettings, workspace_id: str) -> bool:
    """Whether a workspace id is known to the gateway."""
    client = make_mongo_client(settings, app_name="gateway-admin")
    try:
        return await WorkspaceStore(client[settings.mongo_database]).workspace_exists(
            workspace_id
        )
    finally:
        await client.close()


class _Args(BaseModel):
    command: str
    name: str = "demo"
    region: str | None = None
    workspace_id: str | None = None


def main() -> None:
    """Parse the command line and run one admin command; print JSON."""
    parser = argparse.ArgumentParser(prog="python -m services.gateway.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-workspace", help="new workspace with owner/manager/agent")
    create.add_argument("--name", required=True)
    create.add_argument("--region", default="FR",
                        help="default phone region for national numbers (ISO 3166-1 alpha-2)")
    exists = sub.add_parser("workspace-exists", help="exit 0 if the workspace exists")
    exists.add_argument("workspace_id")
    args = _Args(**vars(parser.parse_args()))
    settings = AdminSettings()  # type: ignore[call-arg]
    if args.command == "create-workspace":
        created = asyncio.run(create_workspace(settings, name=args.name, region=args.region))
        print(json.dumps({"workspace_id": created["workspace_id"], "tokens": created["tokens"]}))
    else:
        assert args.workspace_id is not None
        raise SystemExit(0 if asyncio.run(workspace_exists(settings, args.workspace_id)) else 1)


if __name__ == "__main__":
    main()
