"""When an invoice moves stock (DESIGN.md §8): the one rule the dispatcher asks of each event.

Stock leaves when an invoice or receipt is issued and comes back when an issued one is voided,
and only for lines linked to products; how many units each line takes is the products' rule
(`Product.deduct_sold`, `Product.restore_sold`), applied by the inventory job.
"""

from __future__ import annotations

from risiti.domain.invoice import Invoice

DEDUCT, RESTORE = "deduct", "restore"


def moves_stock(invoice: Invoice) -> bool:
    """Whether any line of the invoice names a product (only those can move stock)."""
    return any(item.get("product_id") for item in invoice.items)


def stock_moves_on(event: object, invoice: Invoice) -> str | None:
    """Which way stock moves when `event` happened to `invoice` (DEDUCT or RESTORE), or None:
    out on `Finalized`, back on `Voided` of an invoice that was issued (a voided draft never
    took any)."""
    if not moves_stock(invoice):
        return None
    if isinstance(event, Invoice.Finalized):
        return DEDUCT
    if isinstance(event, Invoice.Voided) and invoice.finalized_at is not None:
        return RESTORE
    return None
