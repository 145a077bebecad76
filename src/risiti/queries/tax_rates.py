"""Reading an account's tax rates: one by id or external_id, or a page of them, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.commands.references import get_referenced
from risiti.domain.tax_rate import TaxRate
from risiti.eventstore import listings
from risiti.eventstore.paging import Place
from risiti.queries.listing import list_referenced


async def list_tax_rates(
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
        TaxRate,
        limit=limit,
        after=after,
        backward=backward,
        external_id=external_id,
    )


async def get_tax_rate(ledger: Ledger, caller: Caller, reference: str) -> TaxRate:
    """The caller's tax rate with this id or external_id; another account's (or mode's) does
    not exist."""
    return await get_referenced(ledger, TaxRate, reference, caller)
