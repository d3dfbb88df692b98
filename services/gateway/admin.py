"""Operator commands of the gateway: ``python -m services.gateway.admin create-workspace``,
``list-tokens``, ``issue-token``, ``rotate-token``, ``revoke-token``."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.gateway.store import WorkspaceStore
from shared.mongo import make_mongo_client
from shared.settings import MongoSettings
from shared.topology import GATEWAY

T = TypeVar("T")


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
    """Whether a workspace id is known to the gateway, with tokens of the current (signed)
    format and users with integer ids: an older demo workspace is made again by ``make up``."""

    async def work(store: WorkspaceStore) -> bool:
        return (await store.workspace_exists(workspace_id)
                and bool([t for t in await store.tokens_of(workspace_id) if t["id"]])
                and bool(await store.users_of(workspace_id, limit=1)))

    return await with_store(settings, work)


async def with_store(settings: MongoSettings, work: Callable[[WorkspaceStore], Awaitable[T]]
                     ) -> T:
    """Run ``work`` against the gateway's store, with a client of its own."""
    client = make_mongo_client(settings, app_name="gateway-admin")
    try:
        store = WorkspaceStore(client[settings.mongo_database])
        await store.ensure_indexes()
        return await work(store)
    finally:
        await client.close()


async def token_command(settings: MongoSettings, args: _Args) -> dict[str, Any] | list[Any]:
    """One token command: ``list-tokens``, ``issue-token``, ``rotate-token``,
    ``revoke-token``. A revoked token stops working within the gateway's token cache time."""

    async def work(store: WorkspaceStore) -> dict[str, Any] | list[Any]:
        if args.command == "list-tokens":
            return await store.tokens_of(str(args.workspace_id))
        if args.command == "revoke-token":
            digest = await store.revoke_token(workspace_id=str(args.workspace_id),
                                              token_id=str(args.token_id))
            if digest is None:
                raise SystemExit(f"no token {args.token_id} in workspace {args.workspace_id}")
            return {"id": args.token_id, "status": "revoked"}
        workspace_id, ref = str(args.workspace_id), str(args.user)
        user = await store.user(workspace_id, int(ref) if ref.isascii() and ref.isdigit()
                                else ref)
        if user is None:
            raise SystemExit(f"no user {ref} in workspace {workspace_id}")
        if args.command == "issue-token":
            issued = await store.issue_token(workspace_id=workspace_id, user_id=user["id"])
            assert issued is not None
            return issued
        rotated = await store.rotate_token(workspace_id=workspace_id, user_id=user["id"])
        assert rotated is not None
        return {**rotated[0], "revoked": sorted(rotated[1].values())}

    return await with_store(settings, work)


class _Args(BaseModel):
    command: str
    name: str = "demo"
    region: str | None = None
    workspace_id: str | None = None
    user: str | None = None
    token_id: str | None = None


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
    listing = sub.add_parser("list-tokens", help="the workspace's tokens (ids, never tokens)")
    listing.add_argument("workspace_id")
    for name, what in (("issue-token", "a new token for a user (older ones keep working)"),
                       ("rotate-token", "a new token for a user; the user's older ones revoked")):
        command = sub.add_parser(name, help=what)
        command.add_argument("workspace_id")
        command.add_argument("--user", required=True, help="the user's id or email")
    revoke = sub.add_parser("revoke-token", help="revoke one token of a workspace by its id")
    revoke.add_argument("workspace_id")
    revoke.add_argument("token_id")
    args = _Args(**vars(parser.parse_args()))
    settings = AdminSettings()  # type: ignore[call-arg]
    if args.command == "create-workspace":
        created = asyncio.run(create_workspace(settings, name=args.name, region=args.region))
        print(json.dumps({"workspace_id": created["workspace_id"], "tokens": created["tokens"],
                          "users": created["users"]}))
    elif args.command == "workspace-exists":
        assert args.workspace_id is not None
        raise SystemExit(0 if asyncio.run(workspace_exists(settings, args.workspace_id)) else 1)
    else:
        print(json.dumps(asyncio.run(token_command(settings, args))))


if __name__ == "__main__":
    main()
