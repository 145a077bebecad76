"""Reading an account's products: one by id, or a page of them, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller, get_owned
from risiti.commands.ledger import Ledger
from risiti.domain.product import Product
from risiti.eventstore import listings
from risiti.eventstore.paging import Place
from risiti.queries.listing import list_listed


async def get_product(ledger: Ledger, caller: Caller, product_id: UUID) -> Product:
    return await get_owned(ledger, Product, product_id, caller)


async def list_products(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> listings.RecordPage:
    return await list_listed(
        ledger, caller, "products", "product", limit=limit, after=after, backward=backward
    )
