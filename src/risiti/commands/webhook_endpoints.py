"""Webhook endpoint commands."""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.domain.errors import InvalidFieldError
from risiti.domain.webhook_addresses import Address, literal_address, refused_address
from risiti.domain.webhook_endpoint import WebhookEndpoint
from risiti.eventstore import lookups

RESOLVE_SECONDS = 5.0


@dataclass(frozen=True)
class RegisterWebhookEndpoint:
    caller: Caller
    url: str
    events: list[str]
    description: str | None = None
    allow_loopback_in_test: bool = False
    """Whether a test-mode endpoint may point at this machine (a developer's receiver)."""


async def check_receiver(url: str, *, livemode: bool, allow_loopback_in_test: bool) -> None:
    """Refuse a URL whose host is, or resolves to, an address webhooks may not go to (SSRF).

    A test-mode host that does not resolve now is accepted: the delivery checks it again."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = literal_address(host)
    addresses = [literal] if literal else await _resolve(host, parts.port or 443)
    if not addresses and livemode:
        raise InvalidFieldError(f"The host {host!r} of url does not resolve.", field="url")
    for address in addresses:
        reason = refused_address(
            address, livemode=livemode, allow_loopback_in_test=allow_loopback_in_test
        )
        if reason:
            raise InvalidFieldError(
                f"url resolves to {address}, {reason}: webhooks go to public addresses only.",
                field="url",
            )


async def _resolve(host: str, port: int) -> list[Address]:
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS
        )
    except (OSError, TimeoutError):
        return []
    return [ip_address(info[4][0]) for info in found]


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
    await check_receiver(
        command.url,
        livemode=command.caller.livemode,
        allow_loopback_in_test=command.allow_loopback_in_test,
    )
    secret = new_webhook_secret()
    async with ledger.transaction() as tx:
        await lookups.save_webhook_secret(tx.conn, endpoint.id, secret)
        await tx.save(endpoint, account_id=endpoint.account_id, livemode=endpoint.livemode)
    return endpoint, secret
