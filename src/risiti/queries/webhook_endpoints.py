"""Reading an account's webhook endpoints and each endpoint's deliveries, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger
from risiti.commands.webhook_endpoints import check_owner
from risiti.domain.webhook_endpoint import WebhookEndpoint
from risiti.eventstore import lookups
from risiti.eventstore.paging import Place
from risiti.queries.listing import list_listed


async def get_webhook_endpoint(
    ledger: Ledger, caller: Caller, endpoint_id: UUID
) -> WebhookEndpoint:
    try:
        endpoint = await ledger.get(WebhookEndpoint, endpoint_id)
    except NotFoundError:
        raise NotFoundError("webhook endpoint", endpoint_id) from None
    check_owner(endpoint, caller, endpoint_id)
    return endpoint


async def list_webhook_endpoints(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> lookups.RecordPage:
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
) -> lookups.RecordPage:
    await get_webhook_endpoint(ledger, caller, endpoint_id)
    async with ledger.connection() as conn:
        page = await lookups.list_webhook_deliveries(
            conn, endpoint_id, limit=limit, after=after, backward=backward
        )
    if page is None:
        raise NotFoundError("webhook delivery", after)
    return page
