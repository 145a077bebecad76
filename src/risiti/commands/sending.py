"""What became of a send: the invoice's `Sent`, `SendFailed` or `SendCancelled` event appended
in the transaction that settles the send's row (docs/api.md, "Sending invoices and reminders").

The event is what fires `invoice.sent` and shows in `send_log`; the row is the worker's to-do
list. Committing both together means a worker that crashes after sending but before recording
finds the row still pending and the invoice's channel still requested, and sends once more
(at least once); one that crashes after recording finds both settled and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from risiti.commands.ledger import Ledger, retry_on_conflict
from risiti.domain.errors import SendSettledError
from risiti.domain.invoice import CANCELLED, FAILED, SENT, Invoice
from risiti.eventstore.outbox import DocumentSend, settle_send


@dataclass(frozen=True)
class SendOutcome:
    """How a send ended: `sent`, `failed` (with the error) or `cancelled` (with the reason)."""

    status: str
    at: datetime
    detail: str | None = None


async def record_send_outcome(ledger: Ledger, send: DocumentSend, outcome: SendOutcome) -> bool:
    """Record the outcome on the invoice and settle the row; False if the invoice already held
    an outcome for that channel (a job run twice), in which case the row takes that one."""

    async def attempt() -> bool:
        async with ledger.transaction() as tx:
            invoice = await tx.get(Invoice, send.invoice_id)
            try:
                _record(invoice, send, outcome)
            except SendSettledError:
                recorded = False
            else:
                await tx.save(invoice, account_id=invoice.account_id, livemode=invoice.livemode)
                recorded = True
            delivery = invoice.send_requests[send.request]["deliveries"][send.channel]
            await settle_send(tx.conn, send.id, delivery["status"], delivery["error"])
            return recorded

    return await retry_on_conflict(attempt)


def _record(invoice: Invoice, send: DocumentSend, outcome: SendOutcome) -> None:
    request, channel, at = send.request, send.channel, outcome.at
    if outcome.status == SENT:
        invoice.mark_sent(request=request, channel=channel, sent_at=at)
    elif outcome.status == FAILED:
        error = outcome.detail or "failed"
        invoice.mark_send_failed(request=request, channel=channel, error=error, failed_at=at)
    elif outcome.status == CANCELLED:
        reason = outcome.detail or "cancelled"
        invoice.cancel_sending(request=request, channel=channel, reason=reason, cancelled_at=at)
    else:
        raise ValueError(f"Unknown send outcome {outcome.status!r}.")
