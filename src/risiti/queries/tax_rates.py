"""Reading an account's tax rates: one by id, or a page of them, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller, get_owned
from risiti.commands.ledger import Ledger
from risiti.domain.tax_rate import TaxRate
from risiti.eventstore import listings
from risiti.eventstore.paging import Place
from risiti.queries.listing import list_listed


async def list_tax_rates(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> listings.RecordPage:
    return await list_listed(
        ledger, caller, "tax_rates", "tax rate", limit=limit, after=after, backward=backward
    )


async def get_tax_rate(ledger: Ledger, caller: Caller, tax_rate_id: UUID) -> TaxRate:
    """The caller's tax rate; another account's (or mode's) does not exist."""
    return await get_owned(ledger, TaxRate, tax_rate_id, caller)
