"""Product commands: create, update, adjust stock; and linking invoice lines to
products by id or sku (docs/api.md, "Inventory")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from risiti.commands.caller import Caller, get_owned
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import (
    Ledger,
    LedgerTransaction,
    check_version,
    retry_on_conflict,
    run_at_version,
)
from risiti.domain.errors import InvalidFieldError
from risiti.domain.product import Product
from risiti.eventstore.errors import VersionConflictError
from risiti.eventstore.inventory import StockAdjustmentRow
from risiti.presentation.products import product_record


@dataclass(frozen=True)
class CreateProduct:
    caller: Caller
    sku: str
    name: str
    unit_price: int
    currency: str = "NGN"
    stock: int = 0
    low_stock_threshold: int | None = None
    track_stock: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateProduct:
    caller: Caller
    product_id: UUID
    changes: dict[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True)
class AdjustStock:
    caller: Caller
    product_id: UUID
    delta: int
    reason: str = "adjustment"
    reference: str | None = None
    """Another channel's id for this change: the same reference again applies nothing."""


@dataclass(frozen=True)
class StockAdjustment:
    """An adjustment as applied (or, `replayed`, as applied the first time its reference came)."""

    product: Product
    delta: int
    reason: str
    reference: str | None
    stock_after: int
    created_at: datetime
    replayed: bool


def adjustment_record(adjustment: StockAdjustment) -> dict[str, Any]:
    return {
        "object": "stock_adjustment",
        "product_id": str(adjustment.product.id),
        "delta": adjustment.delta,
        "reason": adjustment.reason,
        "reference": adjustment.reference,
        "stock_after": adjustment.stock_after,
        "created_at": adjustment.created_at.isoformat(),
        "product": product_record(adjustment.product),
    }


async def create_product(ledger: Ledger, command: CreateProduct) -> Product:
    """Create a product; a sku the account already uses (in this mode) is refused."""
    product = Product.create(
        account_id=command.caller.account_id,
        livemode=command.caller.livemode,
        sku=command.sku,
        name=command.name,
        unit_price=command.unit_price,
        currency=command.currency,
        stock=command.stock,
        low_stock_threshold=command.low_stock_threshold,
        track_stock=command.track_stock,
        metadata=command.metadata,
    )
    async with ledger.transaction() as tx:
        await save_product(tx, product)
    return product


async def save_product(tx: LedgerTransaction, product: Product) -> None:
    """Append the product's new events, and with them its listed record (SkuTakenError if its
    sku is another product's, `side_tables.keep_product`)."""
    await tx.save(product, account_id=product.account_id, livemode=product.livemode)


async def update_product(ledger: Ledger, command: UpdateProduct) -> Product:
    """Change a product's catalogue fields; with If-Match, only at that version."""

    async def attempt() -> Product:
        async with ledger.transaction() as tx:
            product = await get_owned(tx, Product, command.product_id, command.caller)
            check_version(product, command.expected_version)
            product.update(command.changes)
            await save_product(tx, product)
            return product

    return await run_at_version(attempt, command.expected_version)


async def adjust_stock(ledger: Ledger, command: AdjustStock) -> StockAdjustment:
    """Add or remove units. With a reference, once: the same reference again answers the first
    adjustment and changes nothing; with another delta it is refused."""

    async def attempt() -> StockAdjustment:
        async with ledger.transaction() as tx:
            product = await get_owned(tx, Product, command.product_id, command.caller)
            if command.reference is not None:
                earlier = await tx.side_tables.find_stock_adjustment(product.id, command.reference)
                if earlier is not None:
                    return _replayed(product, command, earlier)
            allowed = await tx.side_tables.negative_stock_allowed(product.account_id)
            product.adjust(
                command.delta,
                reason=command.reason,
                reference=command.reference,
                allow_negative=allowed,
            )
            await save_product(tx, product)
            return await _noted(tx, product, command)

    return await retry_on_conflict(attempt)


async def _noted(tx: LedgerTransaction, product: Product, command: AdjustStock) -> StockAdjustment:
    """Keep the adjustment's reference beside its event."""
    created_at = product.modified_on
    if command.reference is not None:
        noted = await tx.side_tables.save_stock_adjustment(
            product.id,
            command.reference,
            command.delta,
            command.reason,
            product.stock,
            created_at,
        )
        if not noted:
            # Another request with this reference committed first; decide again on its row.
            raise VersionConflictError(f"stock adjustment {command.reference} was concurrent")
    return StockAdjustment(
        product,
        command.delta,
        command.reason,
        command.reference,
        product.stock,
        created_at,
        replayed=False,
    )


def _replayed(
    product: Product, command: AdjustStock, earlier: StockAdjustmentRow
) -> StockAdjustment:
    if (earlier.delta, earlier.reason) != (command.delta, command.reason):
        raise InvalidFieldError(
            f"The reference {command.reference!r} was already used for an adjustment of "
            f"{earlier.delta} ({earlier.reason}); a reference stands for one adjustment.",
            field="reference",
        )
    return StockAdjustment(
        product,
        earlier.delta,
        earlier.reason,
        command.reference,
        earlier.stock_after,
        earlier.created_at,
        replayed=True,
    )


# Invoice lines -------------------------------------------------------------------------------


async def linked_items(
    tx: LedgerTransaction, caller: Caller, items: list[dict[str, Any]], currency: str
) -> list[dict[str, Any]]:
    """The lines as an invoice keeps them: a line naming a product (by `product_id` or `sku`)
    links to it and takes its name and unit price where the line gives none."""
    return [
        await _linked_item(tx, caller, item, currency, index) for index, item in enumerate(items)
    ]


async def _linked_item(
    tx: LedgerTransaction, caller: Caller, item: dict[str, Any], currency: str, index: int
) -> dict[str, Any]:
    line = {name: value for name, value in item.items() if name != "sku"}
    named_by = "product_id" if item.get("product_id") is not None else "sku"
    if item.get(named_by) is None:
        return line
    product = await _product_of_line(tx, caller, item, f"items.{index}.{named_by}")
    if product.currency != currency:
        raise InvalidFieldError(
            f"The product {product.sku!r} is priced in {product.currency}; this invoice is in "
            f"{currency}.",
            field=f"items.{index}.{named_by}",
        )
    quantity = Decimal(line["quantity"])
    if product.track_stock and quantity != quantity.to_integral_value():
        raise InvalidFieldError(
            f"Stock of {product.sku!r} counts whole units: quantity must be a whole number.",
            field=f"items.{index}.quantity",
        )
    line["product_id"] = product.id
    if line.get("description") is None:
        line["description"] = product.name
    if line.get("unit_price") is None:
        line["unit_price"] = product.unit_price
    return line


async def _product_of_line(
    tx: LedgerTransaction, caller: Caller, item: dict[str, Any], field_path: str
) -> Product:
    """The product a line names; an unknown one, or an id and a sku of two products, is refused."""
    product_id, sku = item.get("product_id"), item.get("sku")
    if product_id is None:
        product_id = await tx.side_tables.find_product_by_sku(
            caller.account_id, caller.livemode, str(sku)
        )
    product = await _found_product(tx, caller, product_id)
    if product is None:
        named = f"id '{product_id}'" if item.get("product_id") is not None else f"sku '{sku}'"
        raise InvalidFieldError(f"No product with {named}.", field=field_path)
    if sku is not None and product.sku != sku:
        raise InvalidFieldError(
            f"product_id names the product {product.sku!r}, not {sku!r}.", field=field_path
        )
    return product


async def _found_product(
    tx: LedgerTransaction, caller: Caller, product_id: object
) -> Product | None:
    """The caller's product with this id; None for an unknown id or another account's."""
    if product_id is None:
        return None
    try:
        return await get_owned(tx, Product, UUID(str(product_id)), caller)
    except (ValueError, NotFoundError):
        return None
