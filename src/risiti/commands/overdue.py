"""Marking invoices overdue (DESIGN.md §4, §7): the scheduled job's service layer.

Candidates come from the `invoice_list` read model (open or partly paid, due before the day),
less those whose log already holds an `Overdue` event for their due date or a later one. The
read model may lag the log, so it only proposes: each invoice is loaded and the aggregate
decides, and one that is no longer due (paid, voided, its due date moved, marked by a concurrent
run) is skipped quietly. That rule makes the job safe to run again and from several workers at
once; a lost race for the same invoice is decided again on the fresh state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from risiti.commands.ledger import Ledger, retry_on_conflict
from risiti.domain.errors import NotOverdueError
from risiti.domain.invoice import Invoice
from risiti.eventstore.overdue_sql import overdue_sql

OVERDUE_TOPIC = f"{Invoice.Overdue.__module__}:{Invoice.Overdue.__qualname__}"
BATCH_SIZE = 500

# An Overdue event's `due_date` as the JSON transcoder stores a date: {"_type_", "_data_"}.
_CANDIDATES = f"""
SELECT l.id FROM invoice_list l
WHERE {overdue_sql("$1", status="l.status", due_date="l.due_date")} AND l.id > $2
  AND NOT EXISTS (
    SELECT 1 FROM events e
    WHERE e.originator_id = l.id AND e.topic = $3
      AND (convert_from(e.state, 'UTF8')::jsonb -> 'due_date' ->> '_data_')::date >= l.due_date
  )
ORDER BY l.id
LIMIT $4
"""


@dataclass(frozen=True)
class OverdueRun:
    """What one run did: how many candidates it looked at and how many it marked."""

    examined: int
    marked: int


async def overdue_candidates(
    ledger: Ledger, as_of: date, *, after: UUID | None = None, limit: int = BATCH_SIZE
) -> list[UUID]:
    """Ids of invoices that the read model says are past due on `as_of` and not yet marked,
    in id order from after `after`."""
    async with ledger.connection() as conn:
        rows = await conn.fetch(
            _CANDIDATES,
            as_of,
            after or UUID(int=0),
            OVERDUE_TOPIC,
            limit,
        )
    return [row["id"] for row in rows]


async def mark_invoice_overdue(ledger: Ledger, invoice_id: UUID, as_of: date) -> bool:
    """Append `Overdue` to one invoice if the aggregate agrees it is newly past due; whether it
    did. Retried on a version conflict, so a concurrent change is decided on fresh state."""

    async def attempt() -> bool:
        async with ledger.transaction() as tx:
            invoice = await tx.get(Invoice, invoice_id)
            try:
                invoice.mark_overdue(as_of)
            except NotOverdueError:
                return False
            await tx.save(invoice, account_id=invoice.account_id, livemode=invoice.livemode)
            return True

    return await retry_on_conflict(attempt)


async def mark_overdue_invoices(ledger: Ledger, as_of: date) -> OverdueRun:
    """Mark every invoice past its due date on `as_of` that is not marked yet."""
    examined = marked = 0
    after: UUID | None = None
    while batch := await overdue_candidates(ledger, as_of, after=after):
        for invoice_id in batch:
            examined += 1
            marked += await mark_invoice_overdue(ledger, invoice_id, as_of)
        after = batch[-1]
    return OverdueRun(examined=examined, marked=marked)
