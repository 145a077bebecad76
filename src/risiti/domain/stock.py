"""When an invoice moves stock (DESIGN.md §8): the one rule the dispatcher asks of each event.

Stock leaves when an invoice or receipt is issued and comes back when an issued one is voided,
and only for lines linked to products; an amendment of an issued invoice's lines moves it by
the difference, product by product. How many units each line takes is the products' rule
(`Product.deduct_sold`, `Product.amend_sold`, `Product.restore_sold`), applied by the
inventory job.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from risiti.domain.invoice import Invoice

DEDUCT, RESTORE, AMEND = "deduct", "restore", "amend"


def moves_stock(invoice: Invoice) -> bool:
    """Whether any line of the invoice names a product (only those can move stock)."""
    return _links_products(invoice.items)


def stock_moves_on(event: object, invoice: Invoice) -> str | None:
    """Which way stock moves when `event` happened to `invoice` (DEDUCT, RESTORE or AMEND), or
    None: out on `Finalized`, back on `Voided` of an invoice that was issued (a voided draft
    never took any), by the difference on `Amended` lines when either side names a product."""
    if isinstance(event, Invoice.Amended):
        lines = (event.previous.get("items", []), event.changes.get("items", []))
        return AMEND if "items" in event.changes and any(map(_links_products, lines)) else None
    if not moves_stock(invoice):
        return None
    if isinstance(event, Invoice.Finalized):
        return DEDUCT
    if isinstance(event, Invoice.Voided) and invoice.finalized_at is not None:
        return RESTORE
    return None


def line_units(item: dict[str, Any]) -> int:
    """The whole units of its product a line takes from stock."""
    return int(Decimal(item["quantity"]))


def amendment_moves(previous: list[dict[str, Any]], items: list[dict[str, Any]]) -> dict[UUID, int]:
    """The units of each product an amendment from `previous` lines to `items` takes from
    stock (positive) or gives back (negative); products whose units did not change are left
    out."""
    moves: dict[UUID, int] = {}
    for sign, lines in ((-1, previous), (1, items)):
        for item in lines:
            if item.get("product_id"):
                product = item["product_id"]
                moves[product] = moves.get(product, 0) + sign * line_units(item)
    return {product: units for product, units in moves.items() if units}


def _links_products(items: list[dict[str, Any]]) -> bool:
    return any(item.get("product_id") for item in items)
