"""Invoice commands (DESIGN.md §4): create, update or amend, delete, finalize, send, record
payments, mark paid or unpaid, void; and reading the invoice a hosted-page link names.

Each command loads the invoice in a transaction, lets the aggregate decide, and appends what it
decided. With `expected_version` (from If-Match) a stale version is refused; without it, a
command that loses a race to another writer is decided again on the fresh state.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from risiti.commands.caller import Caller, get_owned
from risiti.commands.customers import linked_customer
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import (
    Ledger,
    LedgerTransaction,
    check_version,
    retry_on_conflict,
    run_at_version,
)
from risiti.commands.products import linked_items
from risiti.commands.references import ReferenceFields
from risiti.commands.tax_rates import invoice_taxes
from risiti.commands.webhook_endpoints import check_receiver
from risiti.domain.invoice import DRAFT, PAID, Invoice, InvoiceDraft
from risiti.domain.numbering import format_document_number, number_prefix
from risiti.domain.webhook_endpoint import check_url
from risiti.eventstore import invoice_keys


@dataclass(frozen=True)
class CreateInvoice:
    caller: Caller
    draft: InvoiceDraft
    finalize: bool = True
    paid: bool = False
    """Issue it paid (`status: paid`): finalized with its whole amount recorded as paid."""
    payment_method: str = "other"
    """For a document issued paid (a receipt always is): how the customer paid."""
    tax_rate_ids: Sequence[UUID | str] = field(default_factory=list)
    """The tax rates to apply, each by its id or external_id (`references.py`)."""
    send_email: bool = False
    """Paycashless' `sendEmail`: once issued, send it to the customer's email."""
    allow_loopback_in_test: bool = False
    """Whether a test-mode `callback_url` may point at this machine (a developer's receiver)."""
    reference_fields: ReferenceFields = field(default_factory=ReferenceFields)
    """Where the customer's and the tax rates' references were sent, for the errors."""


@dataclass(frozen=True)
class InvoiceCommand:
    """A command on one existing invoice, optionally only if it is still at a version."""

    caller: Caller
    invoice_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class UpdateInvoice(InvoiceCommand):
    """Change an invoice's fields: a draft's by an update, an issued one's figures by an
    amendment (`Invoice.amends`), which is refused once money was received."""

    changes: dict[str, Any] = field(default_factory=dict)
    tax_rate_ids: Sequence[UUID | str] | None = None
    allow_loopback_in_test: bool = False
    reference_fields: ReferenceFields = field(default_factory=ReferenceFields)


@dataclass(frozen=True)
class AmendInvoice(UpdateInvoice):
    """An update that says why, kept in the amendment's history (Invoice.ng's `PUT`)."""

    reason: str | None = None


@dataclass(frozen=True)
class RestateInvoice(AmendInvoice):
    """Invoice.ng's `PUT`: the invoice as the business states it again, every field sent (an
    update of what differs, or an amendment) and whether it is paid."""

    paid: bool = False


@dataclass(frozen=True)
class DeleteInvoice(InvoiceCommand):
    pass


@dataclass(frozen=True)
class RemoveInvoice(InvoiceCommand):
    """Invoice.ng's `DELETE`: a draft deleted, an issued invoice nobody paid voided
    (`Invoice.remove`)."""

    reason: str | None = None


@dataclass(frozen=True)
class SettlePayment(InvoiceCommand):
    """Invoice.ng's `paid/{id}` and `not-paid/{id}`: paid or not paid, as the business says
    (`Invoice.settle_as_paid`, `Invoice.settle_as_not_paid`)."""

    paid: bool = True


@dataclass(frozen=True)
class FinalizeInvoice(InvoiceCommand):
    pass


@dataclass(frozen=True)
class SendInvoice(InvoiceCommand):
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class RecordPayment(InvoiceCommand):
    amount: int = 0
    method: str = "other"
    reference: str | None = None
    paid_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    by_customer: bool = False
    """Paid by the customer on the hosted page: only what it offers them is taken
    (`Invoice.check_customer_payment`); what the business records is recorded as it says."""


@dataclass(frozen=True)
class MarkPaid(InvoiceCommand):
    method: str = "other"
    reference: str | None = None
    paid_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class MarkUnpaid(InvoiceCommand):
    reason: str | None = None


@dataclass(frozen=True)
class VoidInvoice(InvoiceCommand):
    reason: str | None = None


async def create_invoice(ledger: Ledger, command: CreateInvoice) -> Invoice:
    """Create an invoice; finalize it under its number when asked (a receipt always), issued
    paid when asked (a receipt always) in the same transaction."""
    await _check_callback_url(
        command.caller, command.draft.callback_url, command.allow_loopback_in_test
    )

    async def attempt() -> Invoice:
        async with ledger.transaction() as tx:
            draft = await _resolved_draft(tx, command)
            invoice = Invoice.create(draft, view_token=secrets.token_urlsafe(24))
            if command.paid or command.finalize or invoice.issued_on_creation:
                paid = command.paid or invoice.issued_on_creation
                await _finalize(tx, invoice, paid_by=command.payment_method if paid else None)
            if command.send_email and invoice.status != DRAFT and invoice.customer.get("email"):
                invoice.request_sending(
                    email=invoice.customer["email"], phone=None, requested_at=datetime.now(UTC)
                )
            await _save(tx, invoice)
            return invoice

    return await retry_on_conflict(attempt)


async def _resolved_draft(tx: LedgerTransaction, command: CreateInvoice) -> InvoiceDraft:
    """The draft with its customer and products linked and its tax rates copied in."""
    draft, fields = command.draft, command.reference_fields
    taxes = await invoice_taxes(
        tx, command.caller, command.tax_rate_ids, reference_field=fields.tax_rates
    )
    customer = await linked_customer(
        tx, command.caller, draft.customer, reference_field=fields.customer
    )
    items = await linked_items(tx, command.caller, draft.items, draft.currency)
    return replace(draft, customer=customer, items=items, taxes=draft.taxes + taxes)


async def _check_callback_url(caller: Caller, url: str | None, allow_loopback: bool) -> None:
    """A callback URL is a webhook receiver: the same rules, and the same SSRF check, as an
    endpoint's `url`, before anything is recorded."""
    if url is not None:
        check_url(url, livemode=caller.livemode, field="callback_url")
        await check_receiver(
            url,
            livemode=caller.livemode,
            allow_loopback_in_test=allow_loopback,
            field="callback_url",
        )


async def update_invoice(ledger: Ledger, command: UpdateInvoice) -> Invoice:
    """Update a draft, or an issued invoice's note, due date, metadata or reference; amend an
    issued invoice's figures while no money was received on it."""
    await _check_callback_url(
        command.caller, command.changes.get("callback_url"), command.allow_loopback_in_test
    )
    return await _change_invoice(ledger, command, _editing(command, reason=None))


async def amend_invoice(ledger: Ledger, command: AmendInvoice) -> Invoice:
    """`update_invoice`, with the reason an amendment keeps in its history."""
    await _check_callback_url(
        command.caller, command.changes.get("callback_url"), command.allow_loopback_in_test
    )
    return await _change_invoice(ledger, command, _editing(command, reason=command.reason))


def _editing(command: UpdateInvoice, reason: str | None) -> Change:
    async def edit(tx: LedgerTransaction, invoice: Invoice) -> None:
        _edit(invoice, await _linked_changes(tx, command, invoice), reason)

    return edit


def _edit(invoice: Invoice, changes: dict[str, Any], reason: str | None) -> None:
    if invoice.amends(changes):
        invoice.amend(changes, amended_at=datetime.now(UTC), reason=reason)
    else:
        invoice.update(changes)


async def restate_invoice(ledger: Ledger, command: RestateInvoice) -> Invoice:
    """Change what the restatement changes (`Invoice.restated`), in one transaction with its
    payment status: a paid invoice restated not paid has its payments reversed first (so that
    its figures may then be amended); one restated paid is marked paid after its changes. A
    partly paid invoice restated not paid keeps its payments: it is not paid already."""

    async def restate(tx: LedgerTransaction, invoice: Invoice) -> None:
        now = datetime.now(UTC)
        if not command.paid and invoice.status == PAID:
            invoice.settle_as_not_paid(reason=command.reason, reversed_at=now)
        _edit(
            invoice, invoice.restated(await _linked_changes(tx, command, invoice)), command.reason
        )
        if command.paid:
            invoice.settle_as_paid(payment_id=uuid4(), method="other", reference=None, paid_at=now)

    return await _change_invoice(ledger, command, restate)


async def _linked_changes(
    tx: LedgerTransaction, command: UpdateInvoice, invoice: Invoice
) -> dict[str, Any]:
    """The changes with their customer and products linked and their tax rates copied in."""
    changes, fields = dict(command.changes), command.reference_fields
    if "customer" in changes:
        changes["customer"] = await linked_customer(
            tx, command.caller, changes["customer"], reference_field=fields.customer
        )
    if command.tax_rate_ids is not None:
        # As on create: rates named by id come besides a `tax` or `tax_rate` sent with them.
        rates = await invoice_taxes(
            tx, command.caller, command.tax_rate_ids, reference_field=fields.tax_rates
        )
        changes["taxes"] = changes.get("taxes", []) + rates
    if "items" in changes or "currency" in changes:
        # Linked lines must be in the invoice's currency, whichever of the two changes.
        items = await linked_items(
            tx,
            command.caller,
            changes.get("items", invoice.items),
            changes.get("currency", invoice.currency),
        )
        if "items" in changes:
            changes["items"] = items
    return changes


async def delete_invoice(ledger: Ledger, command: DeleteInvoice) -> Invoice:
    async def delete(tx: LedgerTransaction, invoice: Invoice) -> None:
        invoice.delete()

    return await _change_invoice(ledger, command, delete)


async def remove_invoice(ledger: Ledger, command: RemoveInvoice) -> Invoice:
    async def remove(tx: LedgerTransaction, invoice: Invoice) -> None:
        invoice.remove(reason=command.reason, removed_at=datetime.now(UTC))

    return await _change_invoice(ledger, command, remove)


async def settle_payment(ledger: Ledger, command: SettlePayment) -> Invoice:
    async def settle(tx: LedgerTransaction, invoice: Invoice) -> None:
        now = datetime.now(UTC)
        if command.paid:
            invoice.settle_as_paid(payment_id=uuid4(), method="other", reference=None, paid_at=now)
        else:
            invoice.settle_as_not_paid(reason=None, reversed_at=now)

    return await _change_invoice(ledger, command, settle)


async def finalize_invoice(ledger: Ledger, command: FinalizeInvoice) -> Invoice:
    return await _change_invoice(ledger, command, _finalize)


async def send_invoice(ledger: Ledger, command: SendInvoice) -> Invoice:
    """Record a request to send the invoice; without an address, to the customer's email."""

    async def send(tx: LedgerTransaction, invoice: Invoice) -> None:
        email = command.email
        if not (email or command.phone):
            email = invoice.customer.get("email")
        invoice.request_sending(email=email, phone=command.phone, requested_at=datetime.now(UTC))

    return await _change_invoice(ledger, command, send)


async def record_payment(ledger: Ledger, command: RecordPayment) -> Invoice:
    async def pay(tx: LedgerTransaction, invoice: Invoice) -> None:
        if command.by_customer:
            invoice.check_customer_payment(command.amount)
        invoice.record_payment(
            payment_id=uuid4(),
            amount=command.amount,
            method=command.method,
            reference=command.reference,
            paid_at=command.paid_at,
        )

    return await _change_invoice(ledger, command, pay)


async def mark_paid(ledger: Ledger, command: MarkPaid) -> Invoice:
    async def mark(tx: LedgerTransaction, invoice: Invoice) -> None:
        invoice.mark_paid(
            payment_id=uuid4(),
            method=command.method,
            reference=command.reference,
            paid_at=command.paid_at,
        )

    return await _change_invoice(ledger, command, mark)


async def mark_unpaid(ledger: Ledger, command: MarkUnpaid) -> Invoice:
    async def mark(tx: LedgerTransaction, invoice: Invoice) -> None:
        invoice.mark_unpaid(reason=command.reason, reversed_at=datetime.now(UTC))

    return await _change_invoice(ledger, command, mark)


async def void_invoice(ledger: Ledger, command: VoidInvoice) -> Invoice:
    async def void(tx: LedgerTransaction, invoice: Invoice) -> None:
        invoice.void(reason=command.reason, voided_at=datetime.now(UTC))

    return await _change_invoice(ledger, command, void)


Change = Callable[[LedgerTransaction, Invoice], Awaitable[None]]


async def _change_invoice(ledger: Ledger, command: InvoiceCommand, change: Change) -> Invoice:
    """Load, change and save one invoice; refuse a stale If-Match, else retry lost races."""

    async def attempt() -> Invoice:
        async with ledger.transaction() as tx:
            invoice = await get_owned(tx, Invoice, command.invoice_id, command.caller)
            check_version(invoice, command.expected_version)
            await change(tx, invoice)
            await _save(tx, invoice)
            return invoice

    return await run_at_version(attempt, command.expected_version)


async def _save(tx: LedgerTransaction, invoice: Invoice) -> None:
    await tx.save(invoice, account_id=invoice.account_id, livemode=invoice.livemode)


async def _finalize(tx: LedgerTransaction, invoice: Invoice, *, paid_by: str | None = None) -> None:
    """Issue a draft under the number its business chose, or the next of its series (paid by
    `paid_by` when given, `Invoice.issue`). The number is saved with the invoice:
    NumberTakenError if it is another document's (`side_tables.keep_invoice_number`)."""
    now = datetime.now(UTC)
    number = invoice.requested_number or await _next_number(tx, invoice, now.year)
    invoice.issue(document_number=number, issued_at=now, paid_by=paid_by)


async def _next_number(tx: LedgerTransaction, invoice: Invoice, year: int) -> str:
    sequence = await tx.side_tables.take_next_number(
        invoice.account_id, invoice.livemode, number_prefix(invoice.document_type), year
    )
    return format_document_number(invoice.document_type, year, sequence)


async def get_invoice_by_token(ledger: Ledger, token: str) -> Invoice:
    """The invoice a hosted-page link names; the token is its only credential."""
    async with ledger.connection() as conn:
        invoice_id = await invoice_keys.find_invoice_by_token(conn, token)
    if invoice_id is None:
        raise NotFoundError("invoice", "(link)")
    return await ledger.get(Invoice, invoice_id)
