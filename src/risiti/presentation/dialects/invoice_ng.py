"""Invoice.ng's documents (../shared/seeds/invoice-ng-api.txt): an invoice as Invoice.ng answers
it, amounts in major units (`amount_paid` and `outstanding_balance`, `rate` and an item's
`amount` as numeric strings, as its document writes them), its `Paid`/`Not Paid` words; what it
does not document is under `risiti`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from risiti.domain.invoice import PAID
from risiti.domain.money import major_units
from risiti.presentation.dialects import DialectSchema, MajorAmount, NativeDocument, Reads, major

InvoiceNgStatus = Literal["Paid", "Not Paid"]

# Invoice.ng's two words for Risiti's statuses: `Not Paid` is every invoice not fully paid,
# partly paid included (`domain.invoice.UNPAID`), and a draft, which has received nothing.
PAID_WORD: InvoiceNgStatus = "Paid"
NOT_PAID_WORD: InvoiceNgStatus = "Not Paid"

# How Invoice.ng names the ways a business is paid (`payment_method`), and Risiti's words.
PAYMENT_METHODS = {
    "Cash": "cash",
    "Bank Transfer": "bank_transfer",
    "Cheque": "cheque",
    "Credit Card": "card",
    "Others": "other",
}
_METHOD_WORDS = {native: word for word, native in PAYMENT_METHODS.items()}


def payment_status(status: str) -> InvoiceNgStatus:
    return PAID_WORD if status == PAID else NOT_PAID_WORD


def _text(amount: Decimal) -> str:
    """A major-unit amount as Invoice.ng's numeric string: `"168000"`, `"2500.5"`."""
    whole = amount.to_integral_value()
    return str(int(whole)) if amount == whole else str(amount.normalize())


def _major_text(document: NativeDocument, value: int) -> str:
    return _text(major_units(value, document["currency"]))


def _timestamp(iso: str) -> str:
    """An instant as Invoice.ng writes one, `2017-06-06 11:11:07`, in UTC."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _tax_rate(document: NativeDocument) -> Decimal:
    """The invoice's tax rate in %: the sum of its invoice-level taxes (Invoice.ng has one)."""
    return sum((Decimal(tax["percentage"]) for tax in document["taxes"]), Decimal(0))


def _percentage(rate: Decimal) -> int | float:
    return int(rate) if rate == rate.to_integral_value() else float(rate)


class InvoiceNgRisiti(DialectSchema):
    """What Risiti adds: the native status and the customer's email, which Invoice.ng's
    document does not show."""

    status: Literal["draft", "open", "partially_paid", "paid", "void"]
    document_number: str | None = Field(description="The same as `invoice_no` once issued.")
    customer_email: str | None
    view_url: str = Field(description="The hosted page a customer can open and pay on.")
    version: int = Field(description="The invoice's version (the `ETag`).")


def _risiti(document: NativeDocument) -> dict[str, Any]:
    return {
        "status": document["status"],
        "document_number": document["document_number"],
        "customer_email": document["customer"]["email"],
        "view_url": document["view_url"],
        "version": document["version"],
    }


class InvoiceNgInvoice(DialectSchema):
    """An invoice as Invoice.ng's `invoice` (a one-element list) and `all` show it."""

    id: Annotated[UUID, Reads(lambda d: d["id"])] = Field(
        description="The invoice's id, the same in Risiti's own API (`/v1/invoices/{id}`)."
    )
    short_code: Annotated[str, Reads(lambda d: d["view_token"])] = Field(
        description="The public code the hosted page (`risiti.view_url`) ends with."
    )
    invoice_no: Annotated[str | None, Reads(lambda d: d["document_number"])] = Field(
        description="The number it was issued under; null for a draft made in Risiti's API."
    )
    description: Annotated[str, Reads(lambda d: d["description"] or "")]
    customer_id: Annotated[str | None, Reads(lambda d: d["customer"]["id"])] = Field(
        description="Risiti's id of the customer; `client` takes it, or the customer's external_id."
    )
    customer_name: Annotated[str, Reads(lambda d: d["customer"]["name"])]
    customer_phone: Annotated[str, Reads(lambda d: d["customer"]["phone"] or "")]
    customer_address: Annotated[str, Reads(lambda d: d["customer"]["address"] or "")]
    payment_status: Annotated[InvoiceNgStatus, Reads(lambda d: payment_status(d["status"]))] = (
        Field(description="`Not Paid` is every invoice not fully paid, partly paid included.")
    )
    currency: Annotated[str, Reads(lambda d: d["currency"])]
    tax_rate: Annotated[int | float, Reads(lambda d: _percentage(_tax_rate(d)))] = Field(
        description="In %."
    )
    tax_amount: Annotated[MajorAmount, Reads(lambda d: major(d, "tax_total"))]
    sub_total: Annotated[MajorAmount, Reads(lambda d: major(d, "subtotal"))]
    total: Annotated[MajorAmount, Reads(lambda d: major(d, "total"))] = Field(
        description="In major units: 168000 is ₦168,000.00."
    )
    amount_paid: Annotated[str, Reads(lambda d: _major_text(d, d["amount_paid"]))]
    outstanding_balance: Annotated[str, Reads(lambda d: _major_text(d, d["amount_due"]))]
    issue_date: Annotated[str, Reads(lambda d: d["issue_date"])]
    due_date: Annotated[str | None, Reads(lambda d: d["due_date"])]
    note: Annotated[str, Reads(lambda d: d["note"] or "")]
    created_at: Annotated[str, Reads(lambda d: _timestamp(d["created_at"]))]
    updated_at: Annotated[str, Reads(lambda d: _timestamp(d["updated_at"]))]
    risiti: Annotated[InvoiceNgRisiti, Reads(_risiti)]


class InvoiceNgItem(DialectSchema):
    description: str
    quantity: int | float
    rate: str = Field(description="The unit price in major units, as a numeric string.")
    amount: str = Field(description="quantity times rate, in major units.")


def invoice_items(document: NativeDocument) -> list[dict[str, Any]]:
    """The invoice's lines as Invoice.ng's `items` list them."""
    return [
        InvoiceNgItem(
            description=item["description"],
            quantity=item["quantity"],
            rate=_major_text(document, item["unit_price"]),
            amount=_major_text(document, item["amount"]),
        ).model_dump(mode="json")
        for item in document["items"]
    ]


class InvoiceNgPayment(DialectSchema):
    status: Literal["success", "reversed"] = Field(
        description="`reversed` once the invoice was marked not paid."
    )
    reference: str | None
    amount: MajorAmount
    bank: str = Field(description="How it was paid, in Invoice.ng's words (`Bank Transfer`).")
    created_at: str = Field(description="When it was paid (`payment_date`), in UTC.")


def invoice_payments(document: NativeDocument) -> list[dict[str, Any]]:
    return [
        InvoiceNgPayment(
            status="reversed" if payment["reversed_at"] else "success",
            reference=payment["reference"],
            amount=major_units(payment["amount"], document["currency"]),
            bank=_METHOD_WORDS.get(payment["method"], payment["method"]),
            created_at=_timestamp(payment["paid_at"]),
        ).model_dump(mode="json")
        for payment in document["payments"]
    ]


class InvoiceNgSend(DialectSchema):
    email: str | None = Field(description="Null for a send by text only.")
    date: str


def invoice_send_log(document: NativeDocument) -> list[dict[str, Any]]:
    return [
        InvoiceNgSend(email=sent["email"], date=_timestamp(sent["requested_at"])).model_dump(
            mode="json"
        )
        for sent in document["send_log"]
    ]
