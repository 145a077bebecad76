"""Sending invoices: a `document_sends` row per channel of each send request, and the ARQ job
that sends one (docs/api.md, "Sending invoices and reminders").

As with webhooks (DESIGN.md §8): the dispatcher inserts the rows in its batch transaction, ids
derived from the invoice, the request and the channel so that a batch applied again inserts
nothing, and enqueues a job per new row after commit; a job first claims its row; the sweeper
re-enqueues rows still pending past their time. The outcome is an Invoice event committed with
the row's new status (`risiti.commands.sending`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg
from arq.connections import ArqRedis

from risiti.commands.ledger import Ledger
from risiti.commands.sending import SendOutcome, record_send_outcome
from risiti.config import Settings
from risiti.domain import calendar
from risiti.domain.account import Account
from risiti.domain.invoice import CANCELLED, EMAIL, FAILED, REQUESTED, SENT, Invoice
from risiti.eventstore import outbox
from risiti.eventstore.outbox import DocumentSend
from risiti.metrics import DOCUMENT_SENDS
from risiti.presentation.customer_copy import write_customer_copy
from risiti.presentation.invoice_messages import invoice_email, invoice_notice, invoice_text
from risiti.presentation.invoice_pdf import draw_invoice_pdf, pdf_filename
from risiti.workers.channels import Channels, SendError
from risiti.workers.schedule import SEND_RETRY_DELAYS, next_delay
from risiti.workers.wakeups import REDIS_DOWN

log = logging.getLogger(__name__)

SEND_REQUESTS = (Invoice.SendRequested, Invoice.ReminderRequested)
# A claim outlives ARQ's job timeout, so a crashed worker's send is tried again after it lapses.
CLAIM_SECONDS = 60
_SEND_NAMESPACE = uuid5(NAMESPACE_URL, "risiti:document-sends")


def document_send_id(invoice_id: UUID, request: int, channel: str) -> UUID:
    return uuid5(_SEND_NAMESPACE, f"{invoice_id}:{request}:{channel}")


SendRow = tuple[UUID, UUID, UUID, bool, int, str, str]
"""A `document_sends` row: id, invoice, account, livemode, request, channel, recipient."""


def document_sends_of(invoice: Invoice) -> list[SendRow]:
    """Rows for the invoice's latest send request (the one just folded), one per channel."""
    request = len(invoice.send_requests) - 1
    return [
        (
            document_send_id(invoice.id, request, channel),
            invoice.id,
            invoice.account_id,
            invoice.livemode,
            request,
            channel,
            delivery["to"],
        )
        for channel, delivery in invoice.send_requests[request]["deliveries"].items()
    ]


async def insert_document_sends(conn: asyncpg.Connection, rows: list[SendRow]) -> list[UUID]:
    """Insert the rows; the ids of those that are new."""
    new: list[UUID] = []
    for row in rows:
        if await outbox.insert_document_send(conn, *row):
            new.append(row[0])
    return new


async def enqueue_send(redis: ArqRedis, send_id: UUID, attempt: int, suffix: str = "") -> None:
    """Wake a worker for a send; if Redis is unreachable the sweeper will do it later."""
    try:
        await redis.enqueue_job(
            "send_document", str(send_id), _job_id=f"send:{send_id}:{attempt}{suffix}"
        )
    except REDIS_DOWN as error:
        log.warning("could not enqueue send %s: %s", send_id, error)


async def send_document(ctx: dict[str, Any], send_id: str) -> None:
    """One attempt at one channel of one send request; schedules the next if it failed for a
    passing reason and attempts are left."""
    pool: asyncpg.Pool = ctx["pool"]
    send = await outbox.claim_send(pool, UUID(send_id), CLAIM_SECONDS)
    if send is None:
        return
    settings: Settings = ctx["settings"]
    ledger = Ledger(pool, actor="job:send_document")
    try:
        outcome = await _attempt(ledger, settings, ctx["channels"], send)
    except SendError as error:
        delay = next_delay(send.attempts, settings.send_retry_scale, SEND_RETRY_DELAYS)
        if error.permanent or delay is None:
            outcome = SendOutcome(FAILED, datetime.now(UTC), str(error))
        else:
            DOCUMENT_SENDS.labels(send.channel, "retrying").inc()
            await _retry_later(pool, ctx["redis"], send, str(error), delay)
            return
    DOCUMENT_SENDS.labels(send.channel, outcome.status).inc()
    await record_send_outcome(ledger, send, outcome)


async def _attempt(
    ledger: Ledger, settings: Settings, channels: Channels, send: DocumentSend
) -> SendOutcome:
    """Send the message, or say why it is not sent; SendError if the provider refused it."""
    invoice = await ledger.get(Invoice, send.invoice_id)
    request = invoice.send_requests[send.request]
    recorded = request["deliveries"][send.channel]["status"]
    if recorded != REQUESTED:
        # Sent (or not) by an earlier run that stopped before settling the row: say so again.
        return SendOutcome(recorded, datetime.now(UTC))
    reason = invoice.why_not_send(send.request)
    if reason is not None:
        return SendOutcome(CANCELLED, datetime.now(UTC), reason)
    account = await ledger.get(Account, invoice.account_id)
    notice = invoice_notice(
        invoice,
        business_name=account.name,
        base_url=settings.base_url,
        reminder=request["reminder_days"] is not None,
        today=calendar.today(),
    )
    if send.channel == EMAIL:
        copy = write_customer_copy(invoice, account, today=calendar.today())
        pdf = (pdf_filename(copy), "application/pdf", await draw_invoice_pdf(copy))
        message = invoice_email(
            notice, sender=settings.email_from, to=send.recipient, attachments=[pdf]
        )
        await channels.email.send(message)
    else:
        await channels.text.send(send.recipient, invoice_text(notice))
    return SendOutcome(SENT, datetime.now(UTC))


async def _retry_later(
    pool: asyncpg.Pool, redis: ArqRedis, send: DocumentSend, error: str, delay: float
) -> None:
    await outbox.send_again_later(pool, send.id, error, delay)
    with contextlib.suppress(*REDIS_DOWN):
        await redis.enqueue_job(
            "send_document",
            str(send.id),
            _defer_by=delay,
            _job_id=f"send:{send.id}:{send.attempts}",
        )


async def sweep_document_sends(ctx: dict[str, Any]) -> int:
    """Re-enqueue sends that are due but whose wake-up never reached a worker."""
    lost = await outbox.lost_sends(ctx["pool"])
    for send_id, attempts in lost:
        await enqueue_send(ctx["redis"], send_id, attempts, f":sweep{int(time.time())}")
    return len(lost)
