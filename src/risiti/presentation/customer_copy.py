"""The customer's copy of an invoice: what the hosted page and the PDF both show, written out
for people (amounts and dates in the account's locale with babel), from the invoice folded from
the log and its account.

Both channels render this one object, so the page and the PDF can never disagree with each
other, and their figures are the aggregate's, the same the API reads (DESIGN.md §5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from babel.dates import format_date
from babel.numbers import format_decimal

from risiti.domain.account import Account
from risiti.domain.invoice import (
    DELETED,
    DRAFT,
    OPEN,
    PAID,
    PARTIALLY_PAID,
    VOID,
    Invoice,
    is_overdue,
)
from risiti.domain.money import Money, major_units

# An amount in minor units → text in the invoice's currency and the account's locale.
_Formatter = Callable[[int], str]

# What the customer is told, by state: the business' words, not the API's.
STATUS_LABELS = {
    "paid": "Paid",
    "partly_paid": "Partly paid",
    "due": "Due",
    "overdue": "Overdue",
    "void": "Void",
    "draft": "Draft",
    "deleted": "Deleted",
}


@dataclass(frozen=True)
class Line:
    description: str
    details: str | None
    quantity: str
    unit_price: str
    amount: str
    discount: str | None
    tax: str | None


@dataclass(frozen=True)
class Figure:
    """One row of the totals: a label and the amount, as written and in minor units."""

    label: str
    amount: str
    minor: int
    strong: bool = False


@dataclass(frozen=True)
class PaymentLine:
    paid_on: str
    method: str
    reference: str | None
    amount: str
    reversed: bool


@dataclass(frozen=True)
class Party:
    """The business or the customer: a name and how to reach them."""

    name: str
    email: str | None
    phone: str | None
    address: str | None


@dataclass(frozen=True)
class BankAccount:
    bank_name: str | None
    account_name: str | None
    account_number: str | None


@dataclass(frozen=True)
class CustomerCopy:
    invoice_id: UUID
    version: int
    livemode: bool
    kind: str
    """"Invoice" or "Receipt"."""
    document_number: str | None
    state: str
    """paid, partly_paid, due, overdue, void, draft or deleted (a key of STATUS_LABELS)."""
    business: Party
    customer: Party
    lines: list[Line]
    figures: list[Figure]
    total: str
    amount_due: str
    amount_due_minor: int
    issue_date: str
    due_date: str | None
    payments: list[PaymentLine]
    bank_account: BankAccount | None
    reference: str | None
    note: str | None
    paystack_available: bool
    """The account has a Paystack secret key for the invoice's mode."""
    offers_partial_payment: bool = False
    """The customer may pay part of the amount due (`Invoice.offers_partial_payment`)."""
    amount_due_major: str = "0"
    """The amount due in major units, unformatted (2500.00): an amount input's maximum."""
    smallest_amount: str = "1"
    """The currency's minor unit in major units (0.01 for NGN, 1 for XOF): the input's step."""
    return_url: str | None = None
    """Where the customer is sent once they have paid on the page (Paycashless' `returnUrl`)."""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.state]

    @property
    def title(self) -> str:
        return f"{self.kind} {self.document_number or '(draft)'}"

    @property
    def payable(self) -> bool:
        """Issued, not void, with money still due: the customer may pay it now."""
        return self.state in ("due", "overdue", "partly_paid") and self.amount_due_minor > 0

    @property
    def pay_in_test_mode(self) -> bool:
        return self.payable and not self.livemode

    @property
    def pay_with_paystack(self) -> bool:
        return self.payable and self.livemode and self.paystack_available


def write_customer_copy(invoice: Invoice, account: Account, *, today: date) -> CustomerCopy:
    """The customer's copy, written in the account's locale (no I/O)."""
    locale = account.locale

    def money(amount: int) -> str:
        return Money(amount, invoice.currency).format(locale)

    details = account.details
    state = customer_state(invoice, today)
    due = amount_due(invoice, state)
    return CustomerCopy(
        invoice_id=invoice.id,
        version=invoice.version,
        livemode=invoice.livemode,
        kind="Receipt" if invoice.document_type == "receipt" else "Invoice",
        document_number=invoice.document_number,
        state=state,
        business=Party(
            account.name,
            details.get("contact_email"),
            details.get("contact_phone"),
            details.get("address"),
        ),
        customer=_customer(invoice),
        lines=_lines(invoice, money, locale),
        figures=_figures(invoice, money, due),
        total=money(invoice.totals.total),
        amount_due=money(due),
        amount_due_minor=due,
        issue_date=_day(invoice.issue_date, locale),
        due_date=_day(invoice.due_date, locale) if invoice.due_date else None,
        payments=[_payment(p, money, locale) for p in invoice.payments],
        bank_account=_bank_account(details),
        reference=invoice.reference,
        note=invoice.note,
        paystack_available=account.has_paystack_secret_key(invoice.livemode),
        offers_partial_payment=invoice.offers_partial_payment,
        amount_due_major=str(major_units(due, invoice.currency)),
        smallest_amount=str(major_units(1, invoice.currency)),
        return_url=invoice.return_url,
    )


def customer_state(invoice: Invoice, today: date) -> str:
    """paid / partly paid / due / overdue / void (and draft, deleted) as the customer sees it."""
    status = invoice.status
    if is_overdue(status, invoice.due_date, today):
        return "overdue"
    return {
        OPEN: "due",
        PARTIALLY_PAID: "partly_paid",
        PAID: "paid",
        VOID: "void",
        DRAFT: "draft",
        DELETED: "deleted",
    }[status]


def amount_due(invoice: Invoice, state: str) -> int:
    """What the customer still owes: nothing on a void (or deleted) invoice, whatever its
    figures were; the API's `amount_due` keeps them, for the business' own records."""
    return 0 if state in ("void", "deleted") else invoice.amount_due


def _customer(invoice: Invoice) -> Party:
    customer = invoice.customer
    return Party(
        str(customer.get("name") or ""),
        customer.get("email"),
        customer.get("phone"),
        customer.get("address"),
    )


def _lines(invoice: Invoice, money: _Formatter, locale: str) -> list[Line]:
    return [
        Line(
            description=item["description"],
            details=item.get("details"),
            quantity=format_decimal(Decimal(item["quantity"]), locale=locale),
            unit_price=money(item["unit_price"]),
            amount=money(priced.amount),
            discount=money(-priced.discount_amount) if priced.discount_amount else None,
            tax=money(priced.tax_amount) if priced.tax_amount else None,
        )
        for item, priced in zip(invoice.items, invoice.totals.lines, strict=True)
    ]


def _figures(invoice: Invoice, money: _Formatter, due: int) -> list[Figure]:
    """The totals, each row shown only where it is not zero; every one recomputable from the
    lines, as in the API, but for the amount `due`, which is nothing once void."""
    totals = invoice.totals
    rows: list[tuple[str, int, bool]] = [("Subtotal", totals.subtotal, True)]
    rows += [
        ("Discount", -totals.discount_total, totals.discount_total > 0),
        ("Tax", totals.tax_total, totals.tax_total > 0),
        ("Shipping", totals.shipping_fee, totals.shipping_fee > 0),
    ]
    figures = [Figure(label, money(amount), amount) for label, amount, shown in rows if shown]
    figures.append(Figure("Total", money(totals.total), totals.total, strong=True))
    if totals.tax_inclusive_total:
        included = totals.tax_inclusive_total
        figures.append(Figure("Tax included in prices", money(included), included))
    if invoice.amount_paid:
        figures.append(Figure("Paid", money(-invoice.amount_paid), -invoice.amount_paid))
    figures.append(Figure("Amount due", money(due), due, True))
    return figures


def _payment(payment: dict[str, Any], money: _Formatter, locale: str) -> PaymentLine:
    return PaymentLine(
        paid_on=_day(payment["paid_at"].date(), locale),
        method=str(payment["method"]).replace("_", " "),
        reference=payment.get("reference"),
        amount=money(payment["amount"]),
        reversed=payment.get("reversed_at") is not None,
    )


def _bank_account(details: dict[str, str]) -> BankAccount | None:
    account = BankAccount(
        details.get("bank_name"),
        details.get("bank_account_name"),
        details.get("bank_account_number"),
    )
    return account if account.account_number else None


def _day(day: date, locale: str) -> str:
    return str(format_date(day, format="medium", locale=locale))
