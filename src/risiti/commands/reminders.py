"""Payment reminders (docs/api.md, "Sending invoices and reminders"): the scheduled job's
service layer.

Candidates come from the `invoice_list` read model joined with each account's schedule: open or
partly paid invoices with a due date whose latest schedule day has come and has no reminder
row yet. The read model only proposes; each invoice is loaded and decides on its own state. A
reminder's row (invoice, due date, schedule day) is inserted in the transaction that appends
the reminder's request, so a reminder is requested at most once, however often, late or
concurrently the job runs; the request then goes out through the same path as any send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from risiti.commands.ledger import Ledger, retry_on_conflict
from risiti.domain.errors import NotRemindableError
from risiti.domain.invoice import OPEN, PARTIALLY_PAID, Invoice
from risiti.domain.reminders import latest_due_reminder

BATCH_SIZE = 500

# The latest schedule day that has come (mirrors `latest_due_reminder`, which decides).
_CANDIDATES = """
SELECT l.id, s.reminder_days FROM invoice_list l
JOIN account_settings s ON s.account_id = l.account_id
CROSS JOIN LATERAL (
  SELECT max(d) AS day FROM unnest(s.reminder_days) d
  WHERE l.due_date + d <= $2 AND l.due_date + d >= (l.document ->> 'issue_date')::date
) latest
WHERE cardinality(s.reminder_days) > 0 AND l.type = 'invoice'
  AND l.status = ANY($1::text[]) AND l.due_date IS NOT NULL AND latest.day IS NOT NULL
  AND (l.document -> 'customer' ->> 'email' <> '' OR l.document -> 'customer' ->> 'phone' <> '')
  AND l.id > $3
  AND NOT EXISTS (
    SELECT 1 FROM invoice_reminders r
    WHERE r.invoice_id = l.id AND r.due_date = l.due_date AND r.reminder_days = latest.day
  )
ORDER BY l.id
LIMIT $4
"""


@dataclass(frozen=True)
class ReminderRun:
    """What one run did: how many candidates it looked at and how many reminders it asked for."""

    examined: int
    requested: int


async def request_reminder(
    ledger: Ledger, invoice_id: UUID, reminder_days: list[int], as_of: date
) -> bool:
    """Ask for the invoice's latest due reminder unless it was asked for already; whether it
    did. Retried on a version conflict, so a concurrent change is decided on fresh state."""

    async def attempt() -> bool:
        async with ledger.transaction() as tx:
            invoice = await tx.get(Invoice, invoice_id)
            if invoice.due_date is None:
                return False
            day = latest_due_reminder(
                reminder_days,
                due_date=invoice.due_date,
                issue_date=invoice.issue_date,
                as_of=as_of,
            )
            if day is None:
                return False
            try:
                invoice.request_reminder(reminder_days=day, requested_at=datetime.now(UTC))
            except NotRemindableError:
                return False
            first: UUID | None = await tx.conn.fetchval(
                "INSERT INTO invoice_reminders (invoice_id, due_date, reminder_days)"
                " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING invoice_id",
                invoice_id,
                invoice.due_date,
                day,
            )
            if first is None:
                return False
            await tx.save(invoice, account_id=invoice.account_id, livemode=invoice.livemode)
            return True

    return await retry_on_conflict(attempt)


async def request_due_reminders(ledger: Ledger, as_of: date) -> ReminderRun:
    """Ask for every reminder whose day has come on `as_of` and that was not asked for yet."""
    examined = requested = 0
    after = UUID(int=0)
    while True:
        async with ledger.connection() as conn:
            batch = await conn.fetch(_CANDIDATES, [OPEN, PARTIALLY_PAID], as_of, after, BATCH_SIZE)
        if not batch:
            return ReminderRun(examined=examined, requested=requested)
        for row in batch:
            examined += 1
            requested += await request_reminder(ledger, row["id"], row["reminder_days"], as_of)
        after = batch[-1]["id"]
