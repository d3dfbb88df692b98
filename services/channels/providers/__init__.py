"""Provider webhook adapters: each verifies and parses one provider's documented format.

``PROVIDERS`` maps the URL segment of ``/webhooks/<segment>/<webhook key>`` to its adapter.
Adapters are pure (no I/O); the intake calls ``challenge`` for a GET, else ``verify`` then
``parse``, and publishes what ``parse`` returns. See docs/architecture.md, "Provider webhooks".
"""

from services.channels.providers.base import (
    ChannelKeys,
    InboundEvent,
    Provider,
    RawWebhook,
    WebhookRefused,
)
from services.channels.providers.custom import CustomChannel, api_token_hash
from services.channels.providers.email import InboundEmail, email_signature
from services.channels.providers.messenger import MessengerPlatform
from services.channels.providers.twilio import TwilioSms, twilio_signature
from services.channels.providers.whatsapp import WhatsAppCloud

#: URL segment → adapter.
PROVIDERS: dict[str, Provider] = {
    provider.path: provider
    for provider in (WhatsAppCloud(), MessengerPlatform(), TwilioSms(), InboundEmail(),
                     CustomChannel())
}

__all__ = [
    "PROVIDERS",
    "ChannelKeys",
    "CustomChannel",
    "InboundEmail",
    "InboundEvent",
    "MessengerPlatform",
    "Provider",
    "RawWebhook",
    "TwilioSms",
    "WebhookRefused",
    "WhatsAppCloud",
    "api_token_hash",
    "email_signature",
    "twilio_signature",
]
