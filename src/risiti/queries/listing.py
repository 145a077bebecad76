"""Listing an account's customers, products, tax rates or webhook endpoints, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller, kind_of
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger
from risiti.commands.references import Referenced, external_id_holder
from risiti.domain.customer import Customer
from risiti.domain.tax_rate import TaxRate
from risiti.eventstore import listings
from risiti.eventstore.paging import Place


async def list_listed(
    ledger: Ledger,
    caller: Caller,
    table: str,
    kind: str,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
    only: UUID | None = None,
) -> listings.RecordPage:
    """A page of `table` (one of `listings.LISTED_TABLES`) after a cursor's place or after the
    row `after` names (`backward`: just before it); an unknown `after` id is a `kind` not
    found. With `only`, the page holds that row at most."""
    async with ledger.connection() as conn:
        page = await listings.list_page(
            conn,
            table,
            caller.account_id,
            caller.livemode,
            limit=limit,
            after=after,
            backward=backward,
            only=only,
        )
    if page is None:
        raise NotFoundError(kind, after)
    return page


# The listed table of each kind a reference may name (`commands/references.py`).
_REFERENCED_TABLES: dict[type[Customer | TaxRate], str] = {
    Customer: "customers",
    TaxRate: "tax_rates",
}


async def list_referenced(
    ledger: Ledger,
    caller: Caller,
    cls: type[Referenced],
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
    external_id: str | None = None,
) -> listings.RecordPage:
    """A page of the caller's customers or tax rates (`cls`); with `external_id`, only the one
    that has it, or none."""
    only = None
    if external_id is not None:
        only = await external_id_holder(ledger, cls, external_id, caller)
        if only is None:
            return listings.RecordPage([], has_more=False, next_cursor=None)
    table = _REFERENCED_TABLES[cls]
    return await list_listed(
        ledger,
        caller,
        table,
        kind_of(cls),
        limit=limit,
        after=after,
        backward=backward,
        only=only,
    )
