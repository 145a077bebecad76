"""Webhook endpoint commands."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.domain.webhook_endpoint import WebhookEndpoint
from risiti.eventstore import lookups


@dataclass(frozen=True)
class RegisterWebhookEndpoint:
    caller: Caller
    url: str
    events: list[str]
    description: str | None = None


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def register_webhook_endpoint(
    ledger: Ledger, command: RegisterWebhookEndpoint
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret, which is shown only this once."""
    endpoint = WebhookEndpoint.register(
        account_id=command.caller.account_id,
        livemode=command.caller.livemode,
        url=command.url,
        events=command.events,
        description=command.description,
    )
    secret = new_webhook_secret()
    async with ledger.transaction() as tx:
        await lookups.save_webhook_secret(tx.conn, endpoint.id, secret)
        await tx.save(endpoint, account_id=endpoint.account_id, livemode=endpoint.livemode)
    return endpoint, secret
