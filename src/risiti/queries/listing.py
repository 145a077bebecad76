"""Listing an account's customers, products, tax rates or webhook endpoints, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger
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
) -> listings.RecordPage:
    """A page of `table` (one of `listings.LISTED_TABLES`) after a cursor's place or after the
    row `after` names (`backward`: just before it); an unknown `after` id is a `kind` not
    found."""
    async with ledger.connection() as conn:
        page = await listings.list_page(
            conn,
            table,
            caller.account_id,
            caller.livemode,
            limit=limit,
            after=after,
            backward=backward,
        )
    if page is None:
        raise NotFoundError(kind, after)
    return page
