"""Webhook endpoint commands."""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg

from risiti.commands.caller import Caller, get_owned
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import (
    Ledger,
    LedgerTransaction,
    check_version,
    retry_on_conflict,
    run_at_version,
)
from risiti.domain.errors import InvalidFieldError, InvalidStateError
from risiti.domain.webhook_addresses import Address, literal_address, refused_address
from risiti.domain.webhook_endpoint import RISITI, WebhookEndpoint
from risiti.eventstore import outbox
from risiti.presentation.public_events import (
    callback_signer_id,
    delivery_id,
    event_payload,
    public_event_id,
)
from risiti.presentation.webhook_endpoints import webhook_endpoint_record

RESOLVE_SECONDS = 5.0
TEST_EVENT = "webhook_endpoint.test"


@dataclass(frozen=True)
class RegisterWebhookEndpoint:
    caller: Caller
    url: str
    events: list[str]
    description: str | None = None
    allow_loopback_in_test: bool = False
    """Whether a test-mode endpoint may point at this machine (a developer's receiver)."""
    payload_format: str = RISITI


async def check_receiver(
    url: str, *, livemode: bool, allow_loopback_in_test: bool, field: str = "url"
) -> None:
    """Refuse a URL whose host is, or resolves to, an address webhooks may not go to (SSRF),
    naming `field` (an invoice's `callback_url` is checked as an endpoint's `url` is).

    A test-mode host that does not resolve now is accepted: the delivery checks it again."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = literal_address(host)
    addresses = [literal] if literal else await _resolve(host, parts.port or 443)
    if not addresses and livemode:
        raise InvalidFieldError(f"The host {host!r} of {field} does not resolve.", field=field)
    for address in addresses:
        reason = refused_address(
            address, livemode=livemode, allow_loopback_in_test=allow_loopback_in_test
        )
        if reason:
            raise InvalidFieldError(
                f"{field} resolves to {address}, {reason}: webhooks go to public addresses only.",
                field=field,
            )


async def _resolve(host: str, port: int) -> list[Address]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        return []
    return [ip_address(info[4][0]) for info in found]


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def callback_signing_secret(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool
) -> str:
    """The secret that signs the account's invoice callbacks in one mode (docs/webhooks.md):
    made the first time a callback is sent or the account is read, then kept."""
    signer = callback_signer_id(account_id, livemode)
    return await outbox.kept_signing_secret(conn, signer, new_webhook_secret())


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
        payload_format=command.payload_format,
    )
    await check_receiver(
        command.url,
        livemode=command.caller.livemode,
        allow_loopback_in_test=command.allow_loopback_in_test,
    )
    secret = new_webhook_secret()
    async with ledger.transaction() as tx:
        await outbox.save_webhook_secret(tx.conn, endpoint.id, secret)
        await _save(tx, endpoint)
    return endpoint, secret


def webhook_endpoint_event_payload(
    event_type: str, endpoint: WebhookEndpoint, *, recorded_at: datetime
) -> dict[str, Any]:
    """The payload of a public event about an endpoint: the endpoint, never its secret."""
    return event_payload(
        event_type,
        endpoint,
        recorded_at=recorded_at,
        data=webhook_endpoint_record(endpoint),
    )


async def _save(tx: LedgerTransaction, endpoint: WebhookEndpoint) -> None:
    """Save the endpoint's new events, and with them its listed record (`side_tables`)."""
    await tx.save(endpoint, account_id=endpoint.account_id, livemode=endpoint.livemode)


async def _owned(tx: LedgerTransaction, caller: Caller, endpoint_id: UUID) -> WebhookEndpoint:
    """The caller's endpoint; another account's, or a deleted one, is not found."""
    return await get_owned(tx, WebhookEndpoint, endpoint_id, caller)


@dataclass(frozen=True)
class UpdateWebhookEndpoint:
    caller: Caller
    endpoint_id: UUID
    changes: dict[str, Any]
    expected_version: int | None = None
    allow_loopback_in_test: bool = False


async def update_webhook_endpoint(
    ledger: Ledger, command: UpdateWebhookEndpoint
) -> WebhookEndpoint:
    """Change an endpoint; a new url passes the same SSRF check as at registration."""
    if "url" in command.changes:
        await check_receiver(
            command.changes["url"],
            livemode=command.caller.livemode,
            allow_loopback_in_test=command.allow_loopback_in_test,
        )

    async def attempt() -> WebhookEndpoint:
        async with ledger.transaction() as tx:
            endpoint = await _owned(tx, command.caller, command.endpoint_id)
            check_version(endpoint, command.expected_version)
            endpoint.update(command.changes)
            await _save(tx, endpoint)
            return endpoint

    return await run_at_version(attempt, command.expected_version)


async def disable_webhook_endpoint(ledger: Ledger, endpoint_id: UUID, reason: str) -> None:
    """The receiver is gone or kept failing: disable its endpoint, so that reads and the log
    say so and `webhook_endpoint.disabled` is published (a deleted endpoint stays as it is)."""

    async def attempt() -> WebhookEndpoint:
        async with ledger.transaction() as tx:
            endpoint = await tx.get(WebhookEndpoint, endpoint_id)
            endpoint.disable(reason)
            if endpoint.pending_events:
                await _save(tx, endpoint)
            return endpoint

    await retry_on_conflict(attempt)


@dataclass(frozen=True)
class DeleteWebhookEndpoint:
    caller: Caller
    endpoint_id: UUID
    expected_version: int | None = None


async def delete_webhook_endpoint(
    ledger: Ledger, command: DeleteWebhookEndpoint
) -> WebhookEndpoint:
    """Stop delivering to an endpoint; its history stays in the log."""

    async def attempt() -> WebhookEndpoint:
        async with ledger.transaction() as tx:
            endpoint = await _owned(tx, command.caller, command.endpoint_id)
            check_version(endpoint, command.expected_version)
            endpoint.delete()
            await _save(tx, endpoint)
            return endpoint

    return await run_at_version(attempt, command.expected_version)


@dataclass(frozen=True)
class RotateWebhookSecret:
    caller: Caller
    endpoint_id: UUID
    expire_current_after_seconds: int = 86400


async def rotate_webhook_secret(
    ledger: Ledger, command: RotateWebhookSecret
) -> tuple[WebhookEndpoint, str]:
    """A new secret, shown only this once; the current ones keep signing until they expire."""
    secret = new_webhook_secret()

    async def attempt() -> WebhookEndpoint:
        async with ledger.transaction() as tx:
            endpoint = await _owned(tx, command.caller, command.endpoint_id)
            endpoint.rotate_secret(command.expire_current_after_seconds)
            await outbox.rotate_webhook_secret(
                tx.conn, endpoint.id, secret, command.expire_current_after_seconds
            )
            await _save(tx, endpoint)
            return endpoint

    return await retry_on_conflict(attempt), secret


async def retry_webhook_delivery(ledger: Ledger, caller: Caller, delivery_id: UUID) -> str:
    """Make a failed or pending delivery due now; the worker's sweeper sends it within seconds.
    Returns the delivery's status before."""
    async with ledger.transaction() as tx:
        found = await outbox.find_webhook_delivery_endpoint(
            tx.conn, delivery_id, caller.account_id, caller.livemode
        )
        if found is None:
            raise NotFoundError("webhook delivery", delivery_id)
        endpoint_id, callback = found
        # An invoice's callback has no endpoint to be deleted: it is retried as it is.
        if not callback and (await tx.get(WebhookEndpoint, endpoint_id)).deleted:
            raise InvalidStateError(
                "The delivery's endpoint is deleted.", current="deleted", allowed=()
            )
        before = await outbox.make_delivery_due(
            tx.conn, delivery_id, caller.account_id, caller.livemode
        )
        if before is None:
            raise NotFoundError("webhook delivery", delivery_id)
        if before == "succeeded":
            raise InvalidStateError(
                "The delivery succeeded; only a failed or pending delivery is retried.",
                current="succeeded",
                allowed=(),
            )
    return before


async def send_test_webhook(ledger: Ledger, caller: Caller, endpoint_id: UUID) -> UUID:
    """Have a `webhook_endpoint.test` event sent to one endpoint; returns its delivery's id."""

    async def attempt() -> WebhookEndpoint:
        async with ledger.transaction() as tx:
            endpoint = await _owned(tx, caller, endpoint_id)
            endpoint.request_test_event()
            await _save(tx, endpoint)
            return endpoint

    endpoint = await retry_on_conflict(attempt)
    event_id = public_event_id(endpoint.id, endpoint.version, TEST_EVENT)
    return delivery_id(event_id, endpoint.id)


async def recover_webhook_deliveries(
    ledger: Ledger, caller: Caller, endpoint_id: UUID, since: datetime
) -> int:
    """Send again every failed delivery of an endpoint created since a time; how many."""
    if since > datetime.now(UTC):
        raise InvalidFieldError("since must not be in the future.", field="since")
    async with ledger.transaction() as tx:
        endpoint = await _owned(tx, caller, endpoint_id)
        return await outbox.make_failed_deliveries_due(tx.conn, endpoint.id, since)
