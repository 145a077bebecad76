"""Inventory rows written beside the log, in the transaction of the StockAdjusted events they
go with: adjustment references and what each invoice line did to stock (`stock_movements`), so
that nothing is applied twice. The jobs that move it are the outbox's (`outbox.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg


class StockAdjustmentRow(NamedTuple):
    delta: int
    reason: str
    stock_after: int
    created_at: datetime


async def find_stock_adjustment(
    conn: asyncpg.Connection, product_id: UUID, reference: str
) -> StockAdjustmentRow | None:
    """The adjustment of a product posted with a reference, if there was one; waits for a
    transaction still adding it."""
    row = await conn.fetchrow(
        "SELECT delta, reason, stock_after, created_at FROM stock_adjustments"
        " WHERE product_id = $1 AND reference = $2",
        product_id,
        reference,
    )
    return StockAdjustmentRow(**row) if row else None


async def save_stock_adjustment(
    conn: asyncpg.Connection,
    product_id: UUID,
    reference: str,
    delta: int,
    reason: str,
    stock_after: int,
    created_at: datetime,
) -> bool:
    """Note an adjustment's reference; False if the product already has one with it."""
    noted: UUID | None = await conn.fetchval(
        "INSERT INTO stock_adjustments"
        " (product_id, reference, delta, reason, stock_after, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING product_id",
        product_id,
        reference,
        delta,
        reason,
        stock_after,
        created_at,
    )
    return noted is not None


async def lock_invoice_stock(conn: asyncpg.Connection, invoice_id: UUID) -> None:
    """Serialize an invoice's deduction and restoration until the transaction ends, so that a
    void processed first is seen by a deduction that follows it, and the other way round."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))", invoice_id
    )


async def stock_movements(conn: asyncpg.Connection, invoice_id: UUID) -> dict[tuple[int, str], int]:
    """What each (line, kind) of an invoice already did to stock: the units it moved."""
    rows = await conn.fetch(
        "SELECT line, kind, quantity FROM stock_movements WHERE invoice_id = $1", invoice_id
    )
    return {(row["line"], row["kind"]): row["quantity"] for row in rows}


async def save_stock_movement(
    conn: asyncpg.Connection,
    invoice_id: UUID,
    line: int,
    kind: str,
    product_id: UUID,
    quantity: int,
) -> None:
    await conn.execute(
        "INSERT INTO stock_movements (invoice_id, line, kind, product_id, quantity)"
        " VALUES ($1, $2, $3, $4, $5)",
        invoice_id,
        line,
        kind,
        product_id,
        quantity,
    )


async def deduction_pending(conn: asyncpg.Connection, invoice_id: UUID) -> bool:
    """Whether the invoice's stock is still to be taken: its deduction job is pending."""
    pending: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM inventory_jobs"
        " WHERE invoice_id = $1 AND kind = 'deduct' AND status = 'pending')",
        invoice_id,
    )
    return pending


async def stock_amendments(
    conn: asyncpg.Connection, invoice_id: UUID
) -> dict[tuple[int, UUID], int]:
    """What each (invoice version, product) of an invoice's amendments did to stock: the units
    taken (positive) or given back (negative)."""
    rows = await conn.fetch(
        "SELECT invoice_version, product_id, quantity FROM stock_amendments WHERE invoice_id = $1",
        invoice_id,
    )
    return {(row["invoice_version"], row["product_id"]): row["quantity"] for row in rows}


async def save_stock_amendment(
    conn: asyncpg.Connection, invoice_id: UUID, version: int, product_id: UUID, quantity: int
) -> None:
    await conn.execute(
        "INSERT INTO stock_amendments (invoice_id, invoice_version, product_id, quantity)"
        " VALUES ($1, $2, $3, $4)",
        invoice_id,
        version,
        product_id,
        quantity,
    )
