"""Invoice commands: create (draft, open or receipt), finalize, record a payment; and reads."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid4

from risiti.commands.caller import Caller
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger, LedgerTransaction, retry_on_conflict
from risiti.domain.invoice import PAID, Invoice, InvoiceDraft
from risiti.domain.numbering import format_document_number, number_prefix
from risiti.eventstore import lookups


@dataclass(frozen=True)
class CreateInvoice:
    caller: Caller
    draft: InvoiceDraft
    finalize: bool = True
    payment_method: str = "other"
    """For receipts, which are issued paid: how the customer paid."""


@dataclass(frozen=True)
class RecordPayment:
    caller: Caller
    invoice_id: UUID
    amount: int
    method: str = "other"
    reference: str | None = None
    paid_at: datetime = field(default_factory=lambda: datetime.now(UTC))


async def create_invoice(ledger: Ledger, command: CreateInvoice) -> Invoice:
    """Create an invoice; finalize it under its number when asked; issue a receipt paid."""
    invoice = Invoice.create(command.draft, view_token=secrets.token_urlsafe(24))
    async with ledger.transaction() as tx:
        await lookups.save_invoice_token(tx.conn, invoice.view_token, invoice.id)
        is_receipt = invoice.document_type == "receipt"
        if command.finalize or is_receipt:
            await _finalize(tx, invoice)
        if is_receipt and invoice.status != PAID:
            invoice.record_payment(
                payment_id=uuid4(),
                amount=invoice.amount_due,
                method=command.payment_method,
                reference=None,
                paid_at=datetime.now(UTC),
            )
        await tx.save(invoice, account_id=invoice.account_id, livemode=invoice.livemode)
    return invoice


async def _finalize(tx: LedgerTransaction, invoice: Invoice) -> None:
    """Give a draft the next number of its series and issue it."""
    now = datetime.now(UTC)
    sequence = await lookups.take_next_number(
        tx.conn,
        invoice.account_id,
        invoice.livemode,
        number_prefix(invoice.document_type),
        now.year,
    )
    number = format_document_number(invoice.document_type, now.year, sequence)
    await lookups.save_invoice_number(
        tx.conn, invoice.account_id, invoice.livemode, number, invoice.id
    )
    invoice.finalize(document_number=number, finalized_at=now)


async def record_payment(ledger: Ledger, command: RecordPayment) -> Invoice:
    """Record a payment; a race with another payment is decided again on the fresh balance."""

    async def attempt() -> Invoice:
        async with ledger.transaction() as tx:
            invoice = await _owned_invoice(tx, command.caller, command.invoice_id)
            invoice.record_payment(
                payment_id=uuid4(),
                amount=command.amount,
                method=command.method,
                reference=command.reference,
                paid_at=command.paid_at,
            )
            await tx.save(invoice, account_id=invoice.account_id, livemode=invoice.livemode)
            return invoice

    return await retry_on_conflict(attempt)


async def get_invoice(ledger: Ledger, caller: Caller, id_or_number: str) -> Invoice:
    """An invoice of the caller's account and mode, by id or by document number."""
    invoice_id = await resolve_invoice_id(ledger, caller, id_or_number)
    invoice = await ledger.get(Invoice, invoice_id)
    _check_owner(invoice, caller, id_or_number)
    return invoice


async def resolve_invoice_id(ledger: Ledger, caller: Caller, id_or_number: str) -> UUID:
    """Turn what a URL names (an id or a document number) into an invoice id."""
    try:
        return UUID(id_or_number)
    except ValueError:
        found = await lookups.find_invoice_by_number(
            ledger.pool, caller.account_id, caller.livemode, id_or_number
        )
        if found is None:
            raise NotFoundError("invoice", id_or_number) from None
        return found


async def _owned_invoice(tx: LedgerTransaction, caller: Caller, invoice_id: UUID) -> Invoice:
    invoice = await tx.get(Invoice, invoice_id)
    _check_owner(invoice, caller, invoice_id)
    return invoice


def _check_owner(invoice: Invoice, caller: Caller, named: object) -> None:
    # Another account's invoice, or the other mode's, does not exist for this caller.
    if invoice.account_id != caller.account_id or invoice.livemode != caller.livemode:
        raise NotFoundError("invoice", named)


async def get_invoice_by_token(ledger: Ledger, token: str) -> Invoice:
    """The invoice a hosted-page link names; the token is its only credential."""
    invoice_id = await lookups.find_invoice_by_token(ledger.pool, token)
    if invoice_id is None:
        raise NotFoundError("invoice", "(link)")
    return await ledger.get(Invoice, invoice_id)
