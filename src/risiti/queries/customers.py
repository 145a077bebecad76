"""Reading an account's customers: one by id or external_id, or a page of them, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.commands.references import get_referenced
from risiti.domain.customer import Customer
from risiti.eventstore import listings
from risiti.eventstore.paging import Place
from risiti.queries.listing import list_referenced


async def get_customer(ledger: Ledger, caller: Caller, reference: str) -> Customer:
    """The caller's customer with this id or external_id; another account's does not exist."""
    return await get_referenced(ledger, Customer, reference, caller)


async def list_customers(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
    external_id: str | None = None,
) -> listings.RecordPage:
    return await list_referenced(
        ledger,
        caller,
        Customer,
        limit=limit,
        after=after,
        backward=backward,
        external_id=external_id,
    )
