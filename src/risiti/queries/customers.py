"""Reading an account's customers: one by id, or a page of them, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller, get_owned
from risiti.commands.ledger import Ledger
from risiti.domain.customer import Customer
from risiti.eventstore import listings
from risiti.eventstore.paging import Place
from risiti.queries.listing import list_listed


async def get_customer(ledger: Ledger, caller: Caller, customer_id: UUID) -> Customer:
    return await get_owned(ledger, Customer, customer_id, caller)


async def list_customers(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> listings.RecordPage:
    return await list_listed(
        ledger, caller, "customers", "customer", limit=limit, after=after, backward=backward
    )
