"""The invoice_list read model: one row per invoice, newest first, for `GET /v1/invoices`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from risiti.commands.documents import invoice_record
from risiti.commands.ledger import rebuild
from risiti.domain.invoice import DELETED, Invoice
from risiti.eventstore.mapper import create_mapper
from risiti.eventstore.paging import Place, encode_cursor
from risiti.eventstore.recorder import RecordedEvent, read_aggregate

_INVOICE_TOPIC_PREFIX = f"{Invoice.__module__}:{Invoice.__qualname__}."

_UPSERT = """
INSERT INTO invoice_list (id, account_id, livemode, type, status, currency, document_number,
    customer_name, total, amount_due, due_date, created_at, version, document)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,
    document_number = EXCLUDED.document_number, customer_name = EXCLUDED.customer_name,
    total = EXCLUDED.total, amount_due = EXCLUDED.amount_due, due_date = EXCLUDED.due_date,
    version = EXCLUDED.version, document = EXCLUDED.document
"""


class InvoiceListProjection:
    """Keeps each invoice's latest record, with the columns lists filter and sort on."""

    name = "invoice_list"
    tables: tuple[str, ...] = ("invoice_list",)

    def __init__(self) -> None:
        self._mapper = create_mapper()

    async def apply(self, event: RecordedEvent, conn: asyncpg.Connection) -> None:
        if not event.topic.startswith(_INVOICE_TOPIC_PREFIX):
            return
        records = await read_aggregate(
            conn, event.originator_id, up_to_version=event.originator_version
        )
        invoice = rebuild(self._mapper, Invoice, event.originator_id, records)
        if invoice.status == DELETED:
            await conn.execute("DELETE FROM invoice_list WHERE id = $1", invoice.id)
        else:
            await _upsert(conn, invoice)


async def _upsert(conn: asyncpg.Connection, invoice: Invoice) -> None:
    record = invoice_record(invoice)
    await conn.execute(
        _UPSERT,
        invoice.id,
        invoice.account_id,
        invoice.livemode,
        invoice.document_type,
        invoice.status,
        invoice.currency,
        invoice.document_number,
        invoice.customer["name"],
        record["total"],
        record["amount_due"],
        invoice.due_date,
        invoice.created_on,
        invoice.version,
        json.dumps(record),
    )


STATUS_ALIASES = {"unpaid": "open"}


@dataclass(frozen=True)
class InvoicePage:
    records: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


async def list_invoices(
    conn: asyncpg.Connection | asyncpg.Pool,
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    status: str | None = None,
    after: Place | None = None,
) -> InvoicePage:
    """A page of an account's invoices, newest first, after a cursor's place."""
    rows = await conn.fetch(
        "SELECT document::text, created_at, id FROM invoice_list"
        " WHERE account_id = $1 AND livemode = $2 AND ($3::text IS NULL OR status = $3)"
        " AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))"
        " ORDER BY created_at DESC, id DESC LIMIT $6",
        account_id,
        livemode,
        STATUS_ALIASES.get(status or "", status),
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    page = rows[:limit]
    has_more = len(rows) > limit
    last = page[-1] if page else None
    return InvoicePage(
        records=[json.loads(row["document"]) for row in page],
        has_more=has_more,
        next_cursor=encode_cursor(last["created_at"], last["id"]) if has_more and last else None,
    )


async def find_invoice_cursor(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, livemode: bool, invoice_id: UUID
) -> Place | None:
    """The place of an invoice in the list, for `starting_after=<id>`."""
    row = await conn.fetchrow(
        "SELECT created_at, id FROM invoice_list WHERE id = $1 AND account_id = $2"
        " AND livemode = $3",
        invoice_id,
        account_id,
        livemode,
    )
    return (row["created_at"], row["id"]) if row else None
