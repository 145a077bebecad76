"""The Invoice aggregate: invoices and receipts, from draft to paid (DESIGN.md §4, §5).

Public methods hold the rules; the private `@event` methods only change state, because they run
again on every replay and a later rule must never make stored history unloadable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from risiti.domain.errors import (
    InvalidInvoiceError,
    InvalidStateError,
    PartialPaymentNotAllowedError,
    PaymentExceedsBalanceError,
)
from risiti.domain.money import currency_exponent
from risiti.domain.pricing import (
    ROUNDING_PER_LINE_HALF_UP,
    Discount,
    InvoiceTotals,
    LineInput,
    Tax,
    price_invoice,
)

DRAFT, OPEN, PARTIALLY_PAID, PAID, VOID = "draft", "open", "partially_paid", "paid", "void"
DOCUMENT_TYPES = ("invoice", "receipt")


@dataclass(frozen=True)
class InvoiceDraft:
    """What a business says when it creates an invoice; `Invoice.create` checks it."""

    account_id: UUID
    livemode: bool
    document_type: str
    currency: str
    customer: dict[str, Any]
    items: list[dict[str, Any]]
    issue_date: date
    due_date: date | None = None
    discount: dict[str, Any] | None = None
    shipping_fee: int = 0
    shipping_taxes: list[dict[str, Any]] = field(default_factory=list)
    accept_partial_payments: bool = False
    reference: str | None = None
    note: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class Invoice(Aggregate):
    """An invoice or a receipt of one account, in one mode (test or live)."""

    @classmethod
    def create(cls, draft: InvoiceDraft, *, view_token: str) -> Invoice:
        """Start a draft after checking that its figures can be priced."""
        if draft.document_type not in DOCUMENT_TYPES:
            raise InvalidInvoiceError("type must be invoice or receipt.", field="type")
        currency_exponent(draft.currency)
        if not draft.items:
            raise InvalidInvoiceError("An invoice needs at least one item.", field="items")
        if not str(draft.customer.get("name") or "").strip():
            raise InvalidInvoiceError("The customer needs a name.", field="customer_name")
        if draft.due_date is not None and draft.due_date < draft.issue_date:
            raise InvalidInvoiceError("due_date is before issue_date.", field="due_date")
        _price(draft.items, draft.discount, draft.shipping_fee, draft.shipping_taxes)
        return cls(**vars(draft), view_token=view_token, rounding=ROUNDING_PER_LINE_HALF_UP)

    @event("Created")
    def __init__(
        self,
        *,
        account_id: UUID,
        livemode: bool,
        document_type: str,
        currency: str,
        customer: dict[str, Any],
        items: list[dict[str, Any]],
        issue_date: date,
        due_date: date | None,
        discount: dict[str, Any] | None,
        shipping_fee: int,
        shipping_taxes: list[dict[str, Any]],
        accept_partial_payments: bool,
        reference: str | None,
        note: str | None,
        metadata: dict[str, Any],
        view_token: str,
        rounding: str,
    ) -> None:
        self.account_id = account_id
        self.livemode = livemode
        self.document_type = document_type
        self.currency = currency
        self.customer = customer
        self.items = items
        self.issue_date = issue_date
        self.due_date = due_date
        self.discount = discount
        self.shipping_fee = shipping_fee
        self.shipping_taxes = shipping_taxes
        self.accept_partial_payments = accept_partial_payments
        self.reference = reference
        self.note = note
        self.metadata = metadata
        self.view_token = view_token
        self.rounding = rounding
        self.status = DRAFT
        self.document_number: str | None = None
        self.finalized_at: datetime | None = None
        self.payments: list[dict[str, Any]] = []
        self.amount_paid = 0

    @property
    def totals(self) -> InvoiceTotals:
        """Derived from the lines each time, under the rounding rule recorded at creation."""
        return _price(
            self.items, self.discount, self.shipping_fee, self.shipping_taxes, self.rounding
        )

    @property
    def amount_due(self) -> int:
        return self.totals.total - self.amount_paid

    def finalize(self, document_number: str, finalized_at: datetime) -> None:
        """Issue a draft under its number; from then on its figures no longer change."""
        self._require_status("finalize", DRAFT)
        self._finalized(document_number=document_number, finalized_at=finalized_at)

    class Finalized(Aggregate.Event):
        document_number: str
        finalized_at: datetime

    @event(Finalized)
    def _finalized(self, document_number: str, finalized_at: datetime) -> None:
        self.document_number = document_number
        self.finalized_at = finalized_at
        self.status = OPEN if self.totals.total > 0 else PAID

    def record_payment(
        self,
        *,
        payment_id: UUID,
        amount: int,
        method: str,
        reference: str | None,
        paid_at: datetime,
    ) -> None:
        """Record money received; never more than the amount due."""
        self._require_status("record a payment on", OPEN, PARTIALLY_PAID)
        if amount <= 0:
            raise InvalidInvoiceError("amount must be greater than 0.", field="amount")
        if amount > self.amount_due:
            raise PaymentExceedsBalanceError(amount, self.amount_due)
        if amount < self.amount_due and not self.accept_partial_payments:
            raise PartialPaymentNotAllowedError(amount, self.amount_due)
        self._payment_recorded(
            payment_id=payment_id,
            amount=amount,
            method=method,
            reference=reference,
            paid_at=paid_at,
        )

    class PaymentRecorded(Aggregate.Event):
        payment_id: UUID
        amount: int
        method: str
        reference: str | None
        paid_at: datetime

    @event(PaymentRecorded)
    def _payment_recorded(
        self, payment_id: UUID, amount: int, method: str, reference: str | None, paid_at: datetime
    ) -> None:
        self.payments.append(
            {
                "id": payment_id,
                "amount": amount,
                "method": method,
                "reference": reference,
                "paid_at": paid_at,
            }
        )
        self.amount_paid += amount
        self.status = PAID if self.amount_due == 0 else PARTIALLY_PAID

    def _require_status(self, action: str, *allowed: str) -> None:
        if self.status not in allowed:
            raise InvalidStateError(
                f"Cannot {action} an invoice that is {self.status}; "
                f"allowed only when {' or '.join(allowed)}.",
                current=self.status,
                allowed=allowed,
            )


def _price(
    items: list[dict[str, Any]],
    discount: dict[str, Any] | None,
    shipping_fee: int,
    shipping_taxes: list[dict[str, Any]],
    rounding: str = ROUNDING_PER_LINE_HALF_UP,
) -> InvoiceTotals:
    """The totals of an invoice's stored figures under its recorded rounding rule."""
    return price_invoice(
        [
            LineInput(
                quantity=Decimal(item["quantity"]),
                unit_price=item["unit_price"],
                taxes=_taxes(item.get("taxes", [])),
            )
            for item in items
        ],
        discount=Discount(discount["type"], discount["value"]) if discount else None,
        shipping_fee=shipping_fee,
        shipping_taxes=_taxes(shipping_taxes),
        rounding=rounding,
    )


def _taxes(taxes: list[dict[str, Any]]) -> tuple[Tax, ...]:
    return tuple(
        Tax(Decimal(t["percentage"]), bool(t.get("inclusive", False)), t.get("name", ""))
        for t in taxes
    )
