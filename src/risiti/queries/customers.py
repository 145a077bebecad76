"""Reading an account's customers: one by id, or a page of them, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.customers import check_owner
from risiti.commands.ledger import Ledger
from risiti.domain.customer import Customer
from risiti.eventstore import lookups
from risiti.eventstore.paging import Place
from risiti.queries.listing import list_listed


async def get_customer(ledger: Ledger, caller: Caller, customer_id: UUID) -> Customer:
    customer = await ledger.get(Customer, customer_id)
    check_owner(customer, caller, customer_id)
    return customer


async def list_customers(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> lookups.RecordPage:
    return await list_listed(
        ledger, caller, "customers", "customer", limit=limit, after=after, backward=backward
    )
