"""Moving stock for invoices (DESIGN.md §8): an issued invoice's or receipt's linked lines take
their units from stock, an amendment of its lines moves them by the difference, and a void
gives back exactly what was taken.

Each job's work is one transaction: it claims its `inventory_jobs` row, appends the products'
StockAdjusted events and writes a `stock_movements` row per (invoice, line, kind) of the lines
as issued, or a `stock_amendments` row per (invoice, amended version, product). A job run twice
finds its row claimed, and a line or amendment already moved finds its row: stock moves once.
An amendment waits for the deduction (its job stays pending, and is swept up again), so that the
lines as issued are taken first and every amendment moves stock from there.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger, LedgerTransaction, retry_on_conflict
from risiti.commands.products import save_product
from risiti.domain.invoice import Invoice
from risiti.domain.product import Product
from risiti.domain.stock import AMEND, DEDUCT, RESTORE, amendment_moves, line_units


class _DeductionFirst(Exception):
    """An amendment's job ran before its invoice's deduction: undone, and left pending."""


async def settle_invoice_stock(ledger: Ledger, job_id: UUID) -> bool:
    """Do one pending inventory job; False if it was done already, or is an amendment waiting
    for its invoice's deduction."""

    async def attempt() -> bool:
        async with ledger.transaction() as tx:
            claimed = await tx.side_tables.claim_inventory_job(job_id)
            if claimed is None:
                return False
            invoice_id, kind = claimed
            await tx.side_tables.lock_invoice_stock(invoice_id)
            if kind == AMEND and await tx.side_tables.deduction_pending(invoice_id):
                raise _DeductionFirst
            history = await tx.events(invoice_id)
            issued = next(e for e in history if isinstance(e, Invoice.Finalized))
            invoice = await tx.get(Invoice, invoice_id, up_to_version=issued.originator_version)
            moves = _StockMoves(
                tx,
                invoice,
                await tx.side_tables.stock_movements(invoice_id),
                await tx.side_tables.stock_amendments(invoice_id),
            )
            allowed = await tx.side_tables.negative_stock_allowed(invoice.account_id)
            if kind == DEDUCT:
                await moves.deduct(allow_negative=allowed)
            elif kind == AMEND:
                await moves.amend(history, allow_negative=allowed)
            else:
                await moves.restore(version=history[-1].originator_version)
            await moves.save()
            return True

    try:
        return await retry_on_conflict(attempt)
    except _DeductionFirst:
        return False


class _StockMoves:
    """One invoice's stock moves within one transaction, each line as issued at most once per
    kind, each amendment at most once per product."""

    def __init__(
        self,
        tx: LedgerTransaction,
        invoice: Invoice,
        done: dict[tuple[int, str], int],
        amended: dict[tuple[int, UUID], int],
    ) -> None:
        self.tx = tx
        self.invoice = invoice
        """The invoice as issued: its lines are the ones the deduction takes."""
        self.done = done
        self.amended = amended
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
                line_units(item), reference=self._reference, allow_negative=allow_negative
            )
            await self._note(line, DEDUCT, product, taken)

    async def amend(self, history: list[Any], *, allow_negative: bool) -> None:
        """Move each tracked product by the difference of every amendment not moved yet; none
        once the invoice is void (its restoration gives back what was taken until then)."""
        if any(isinstance(event, Invoice.Voided) for event in history):
            return
        for event in history:
            if not isinstance(event, Invoice.Amended) or "items" not in event.changes:
                continue
            version = event.originator_version
            moves = amendment_moves(event.previous["items"], event.changes["items"])
            for product_id, units in moves.items():
                product = await self._product(product_id)
                if (
                    product is None
                    or not product.track_stock
                    or (version, product_id) in (self.amended)
                ):
                    continue
                moved = product.amend_sold(
                    units,
                    taken=self._taken(product_id),
                    reference=self._reference,
                    allow_negative=allow_negative,
                )
                await self._note_amendment(version, product, moved)

    async def restore(self, *, version: int) -> None:
        """Give back what each line took, and what amendments took or gave back since; a line
        not yet taken is marked so it never will be."""
        for line, item in self._linked_lines():
            if (line, RESTORE) in self.done:
                continue
            taken = self.done.get((line, DEDUCT), 0)
            product = await self._product(item["product_id"])
            if product is None:
                continue
            product.restore_sold(taken, reference=self._reference)
            await self._note(line, RESTORE, product, taken)
        by_amendments: dict[UUID, int] = {}
        for (_, product_id), units in self.amended.items():
            by_amendments[product_id] = by_amendments.get(product_id, 0) + units
        for product_id, units in by_amendments.items():
            product = await self._product(product_id)
            if product is None or not units:
                continue
            # What the amendments took is given back (and what they gave back, taken again).
            product.restore_sold(units, reference=self._reference)
            await self._note_amendment(version, product, -units)

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

    def _taken(self, product_id: UUID) -> int:
        """The units of a product this invoice has taken so far, net of what it gave back."""
        lines = self.invoice.items
        issued = sum(
            units
            for (line, kind), units in self.done.items()
            if kind == DEDUCT and lines[line].get("product_id") == product_id
        )
        return issued + sum(
            units for (_, product), units in self.amended.items() if product == product_id
        )

    async def _note_amendment(self, version: int, product: Product, quantity: int) -> None:
        await self.tx.side_tables.save_stock_amendment(
            self.invoice.id, version, product.id, quantity
        )
        self.amended[(version, product.id)] = quantity

    async def _note(self, line: int, kind: str, product: Product, quantity: int) -> None:
        await self.tx.side_tables.save_stock_movement(
            self.invoice.id, line, kind, product.id, quantity
        )
        self.done[(line, kind)] = quantity
