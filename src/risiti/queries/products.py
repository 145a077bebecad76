"""Reading an account's products: one by id, or a page of them, newest first."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.commands.products import check_owner
from risiti.domain.product import Product
from risiti.eventstore import lookups
from risiti.eventstore.paging import Place
from risiti.queries.listing import list_listed


async def get_product(ledger: Ledger, caller: Caller, product_id: UUID) -> Product:
    product = await ledger.get(Product, product_id)
    check_owner(product, caller, product_id)
    return product


async def list_products(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> lookups.RecordPage:
    return await list_listed(
        ledger, caller, "products", "product", limit=limit, after=after, backward=backward
    )
