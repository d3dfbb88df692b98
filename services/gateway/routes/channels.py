"""Public routes the channels service owns, one row each: ``/v2/space/channel`` (channels and
their secrets: every role lists them; connecting and deleting one is for owners and managers)
and a contact's messages (``/v2/contact/{identifier}/message/…``, every role; the gateway
resolves the contact first)."""

from __future__ import annotations

from services.gateway.routing import QueryParam, Route
from shared.api.channels import ChannelCreated, ChannelInputModel, ChannelList
from shared.api.contacts import CONTACT_ID_MAX
from shared.api.messages import ContactMessage, ContactMessageList
from shared.api.roles import MANAGERS
from shared.api.space import Done
from shared.topology import CHANNELS

OWNER = CHANNELS.name
PAGE = (
    QueryParam(name="limit", annotation=int, default=10, ge=1, le=100,
               description="Channels per page", example=10),
    QueryParam(name="cursorId", annotation=int | None, ge=1, le=CONTACT_ID_MAX, example=2,
               description="Next page: channels with ids above this one (not with "
               "`beforeId`)"),
    QueryParam(name="beforeId", annotation=int | None, ge=1, le=CONTACT_ID_MAX, example=3,
               description="Previous page: channels with ids below this one (not with "
               "`cursorId`)"),
)
MESSAGE_PAGE = (
    QueryParam(name="limit", annotation=int, default=10, ge=1, le=100,
               description="Messages per page", example=10),
    QueryParam(name="cursorId", annotation=int | None, ge=1, le=2**63 - 1, example=20,
               description="Next page: older messages, with ids below this one (not with "
               "`beforeId`)"),
    QueryParam(name="beforeId", annotation=int | None, ge=1, le=2**63 - 1, example=31,
               description="Previous page: newer messages, with ids above this one (not "
               "with `cursorId`)"),
)
CONNECT_EXAMPLE = {"name": "Support", "source": "whatsapp_cloud",
                   "phoneNumberId": "106540352242922", "displayPhoneNumber": "+15550783881",
                   "appSecret": "8f2b1c0e4a5d6e7f8a9b0c1d2e3f4a5b",
                   "verifyToken": "my-verify-token"}

ROUTES: tuple[Route, ...] = (
    Route(method="GET", path="/v2/space/channel", service=OWNER, name="list_channels",
          summary="List the workspace's channels (cursor pagination)",
          description="The channels connected to the workspace by id (respond.io's `{id, name, "
          "source, created_at}` and the channel's `webhookUrl`); secrets are never shown.",
          answer=ChannelList, query=PAGE),
    Route(method="POST", path="/v2/space/channel", service=OWNER, name="connect_channel",
          summary="Connect a channel (owner, manager)",
          description="Connect a channel: `name`, `source` (respond.io's names) and that "
          "source's connect fields (unknown keys refused). The answer carries the channel's "
          "`webhookUrl` (configure the provider with it) and, for a `custom_channel`, its "
          "`apiToken`, shown this once. Secrets are stored, never answered.",
          answer=ChannelCreated, status_code=201, body=ChannelInputModel,
          body_example=CONNECT_EXAMPLE, roles=MANAGERS),
    Route(method="DELETE", path="/v2/space/channel/{id}", service=OWNER,
          name="delete_channel", summary="Delete a channel (owner, manager)",
          description="Delete the channel: its webhooks answer 404 from now on; the history "
          "that names it stays.",
          answer=Done, roles=MANAGERS),
    Route(method="GET", path="/v2/contact/{identifier}/message/list", service=OWNER,
          name="list_messages", summary="List a contact's messages (cursor pagination)",
          description="The contact's conversation history across its channels, newest "
          "first (respond.io's message objects).",
          answer=ContactMessageList, query=MESSAGE_PAGE, resolve_contact=True),
    Route(method="GET", path="/v2/contact/{identifier}/message/{messageId}", service=OWNER,
          name="get_message", summary="Get a message of a contact",
          description="One message of the contact by its `messageId` (an integer per "
          "workspace): `{messageId, channelMessageId, contactId, channelId, traffic, message, "
          "status}`.",
          answer=ContactMessage, resolve_contact=True),
)
