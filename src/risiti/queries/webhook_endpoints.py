"""Reading an account's webhook endpoints and each endpoint's deliveries, newest first; and an
invoice's callbacks, logged as deliveries are."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller, get_owned
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger
from risiti.domain.webhook_endpoint import WebhookEndpoint
from risiti.eventstore import listings, outbox
from risiti.eventstore.paging import Place
from risiti.presentation.public_events import invoice_callback_id
from risiti.queries.invoices import get_invoice
from risiti.queries.listing import list_listed


async def get_webhook_endpoint(
    ledger: Ledger, caller: Caller, endpoint_id: UUID
) -> WebhookEndpoint:
    """The caller's endpoint; another account's, or a deleted one, is not found."""
    return await get_owned(ledger, WebhookEndpoint, endpoint_id, caller)


async def list_webhook_endpoints(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> listings.RecordPage:
    return await list_listed(
        ledger,
        caller,
        "webhook_endpoint_records",
        "webhook endpoint",
        limit=limit,
        after=after,
        backward=backward,
    )


async def list_webhook_deliveries(
    ledger: Ledger,
    caller: Caller,
    endpoint_id: UUID,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> listings.RecordPage:
    await get_webhook_endpoint(ledger, caller, endpoint_id)
    return await _deliveries(ledger, endpoint_id, limit=limit, after=after, backward=backward)


async def list_invoice_callbacks(
    ledger: Ledger,
    caller: Caller,
    id_or_number: str,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> listings.RecordPage:
    """The deliveries of an invoice of the caller's to its `callback_url`, newest first."""
    invoice = await get_invoice(ledger, caller, id_or_number)
    return await _deliveries(
        ledger, invoice_callback_id(invoice.id), limit=limit, after=after, backward=backward
    )


async def _deliveries(
    ledger: Ledger,
    endpoint_id: UUID,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool,
) -> listings.RecordPage:
    async with ledger.connection() as conn:
        page = await outbox.list_webhook_deliveries(
            conn, endpoint_id, limit=limit, after=after, backward=backward
        )
    if page is None:
        raise NotFoundError("webhook delivery", after)
    return page
