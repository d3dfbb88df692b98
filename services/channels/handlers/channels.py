"""Handlers of the workspace's channels: list, connect, delete."""

from __future__ import annotations

from services.channels.domain.channel import new_channel
from services.channels.domain.errors import NotFound
from services.channels.domain.permissions import ensure_may_manage_channels
from services.channels.handlers.commands import (
    ChannelPage,
    ConnectChannel,
    Connected,
    DeleteChannel,
    ListChannels,
)
from services.channels.handlers.deps import Deps
from shared.unit_of_work import Transaction


async def list_channels(query: ListChannels, deps: Deps) -> ChannelPage:
    """A page of the workspace's channels by id (deleted ones are not listed)."""
    channels, has_next, has_previous = await deps.channels.page(
        query.caller.workspace_id, limit=query.limit, after=query.after, before=query.before)
    return ChannelPage(channels=channels, has_next=has_next, has_previous=has_previous)


async def connect_channel(command: ConnectChannel, deps: Deps) -> Connected:
    """Connect a channel (owners, managers): an id from the workspace's counter (taken
    outside the transaction, like contact ids: a failure leaves a gap), a fresh webhook key,
    and for a custom channel a fresh API token, answered once and stored as its hash."""
    ensure_may_manage_channels(command.caller.role, action="connect")
    workspace = command.caller.workspace_id
    token = deps.new_api_token() if command.spec.source == "custom_channel" else None
    channel = new_channel(
        command.spec, workspace_id=workspace, channel_id=await deps.channels.next_id(workspace),
        created_at=deps.clock(), webhook_key=deps.new_webhook_key(), api_token=token,
    )

    async def work(tx: Transaction) -> None:
        await deps.channels.insert(channel, tx.session)

    await deps.uow.run(work)
    return Connected(channel=channel, api_token=token)


async def delete_channel(command: DeleteChannel, deps: Deps) -> int:
    """Delete a channel (owners, managers): its secrets go and its webhooks answer 404 from
    now on; its row stays for the history that names it."""
    ensure_may_manage_channels(command.caller.role, action="delete")
    workspace, channel_id = command.caller.workspace_id, command.channel_id

    async def work(tx: Transaction) -> bool:
        return await deps.channels.mark_deleted(workspace, channel_id, at=deps.clock(),
                                                session=tx.session)

    if not await deps.uow.run(work):
        raise NotFound(f"id: channel {channel_id} does not exist in this workspace")
    return channel_id
