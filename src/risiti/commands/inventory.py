"""Moving stock for invoices (DESIGN.md §8): an issued invoice's or receipt's linked lines take
their units from stock, and a void gives back exactly what was taken.

Each job's work is one transaction: it claims its `inventory_jobs` row, appends the products'
StockAdjusted events and writes a `stock_movements` row per (invoice, line, kind). A job run
twice finds its row claimed, and a line already moved finds its movement: stock moves once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger, LedgerTransaction, retry_on_conflict
from risiti.commands.products import save_product
from risiti.domain.invoice import Invoice
from risiti.domain.product import Product
from risiti.domain.stock import DEDUCT, RESTORE


async def settle_invoice_stock(ledger: Ledger, job_id: UUID) -> bool:
    """Do one pending inventory job; False if it was done already."""

    async def attempt() -> bool:
        async with ledger.transaction() as tx:
            claimed = await tx.side_tables.claim_inventory_job(job_id)
            if claimed is None:
                return False
            invoice_id, kind = claimed
            await tx.side_tables.lock_invoice_stock(invoice_id)
            invoice = await tx.get(Invoice, invoice_id)
            moves = _StockMoves(tx, invoice, await tx.side_tables.stock_movements(invoice_id))
            if kind == DEDUCT:
                allowed = await tx.side_tables.negative_stock_allowed(invoice.account_id)
                await moves.deduct(allow_negative=allowed)
            else:
                await moves.restore()
            await moves.save()
            return True

    return await retry_on_conflict(attempt)


class _StockMoves:
    """One invoice's stock moves within one transaction, each line at most once per kind."""

    def __init__(
        self, tx: LedgerTransaction, invoice: Invoice, done: dict[tuple[int, str], int]
    ) -> None:
        self.tx = tx
        self.invoice = invoice
        self.done = done
        self.products: dict[UUID, Product] = {}

    async def deduct(self, *, allow_negative: bool) -> None:
        """Take each linked line's units, unless the line was taken already, or given back
        already (a void processed before this deduction: then nothing is taken)."""
        for line, item in self._linked_lines():
            if (line, DEDUCT) in self.done or (line, RESTORE) in self.done:
                continue
            product = await self._product(item["product_id"])
            if product is None or not product.track_stock:
                continue
            taken = product.deduct_sold(
                int(Decimal(item["quantity"])),
                reference=self._reference,
                allow_negative=allow_negative,
            )
            await self._note(line, DEDUCT, product, taken)

    async def restore(self) -> None:
        """Give back what each line took; a line not yet taken is marked so it never will be."""
        for line, item in self._linked_lines():
            if (line, RESTORE) in self.done:
                continue
            taken = self.done.get((line, DEDUCT), 0)
            product = await self._product(item["product_id"])
            if product is None:
                continue
            product.restore_sold(taken, reference=self._reference)
            await self._note(line, RESTORE, product, taken)

    async def save(self) -> None:
        # In id order: two invoices selling the same products never wait on each other in a
        # cycle (which PostgreSQL would break by failing one of them).
        for product_id in sorted(self.products):
            await save_product(self.tx, self.products[product_id])

    @property
    def _reference(self) -> str:
        return self.invoice.document_number or str(self.invoice.id)

    def _linked_lines(self) -> list[tuple[int, dict[str, Any]]]:
        return [(i, item) for i, item in enumerate(self.invoice.items) if item.get("product_id")]

    async def _product(self, product_id: UUID) -> Product | None:
        """The line's product, if it is the invoice's account's (a line linked before products
        existed may name none)."""
        if product_id not in self.products:
            try:
                product = await self.tx.get(Product, product_id)
            except NotFoundError:
                return None
            if (product.account_id, product.livemode) != (
                self.invoice.account_id,
                self.invoice.livemode,
            ):
                return None
            self.products[product_id] = product
        return self.products[product_id]

    async def _note(self, line: int, kind: str, product: Product, quantity: int) -> None:
        await self.tx.side_tables.save_stock_movement(
            self.invoice.id, line, kind, product.id, quantity
        )
        self.done[(line, kind)] = quantity
