"""Duplo's documents (../shared/seeds/duplo-create-invoice.txt): an invoice as Duplo answers
it, amounts in major units (decimals), Duplo's status words `invoice` and `draft`; the figures
Duplo does not show (subtotal, totals, what is due) are under `risiti`.

Two of Duplo's fields are terms the native document does not carry, so the dialect's source
adds them (`duplo_source`): the discount as it was given (a percentage stays a percentage),
and the recipient as the business' old system named it (its customer's external_id)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from risiti.domain.money import major_units
from risiti.presentation.dialects import DialectSchema, MajorAmount, NativeDocument, Reads, major

DuploStatus = Literal["invoice", "draft"]

BUSINESS_ID = "duplo_business_id"
"""The invoice's metadata key that keeps the `business_id` a Duplo request sent."""

_DISCOUNT = "duplo_discount"
_RECIPIENT = "duplo_recipient"


def duplo_source(
    document: NativeDocument, *, discount: dict[str, Any] | None, recipient: str | None
) -> NativeDocument:
    """The native document with the two terms Duplo's document reads besides it: the
    invoice's discount as the domain keeps it (`{type, value}`, an amount in minor units) and
    the name of its recipient (its customer's external_id, else its id)."""
    return document | {_DISCOUNT: discount, _RECIPIENT: recipient}


class DuploItem(DialectSchema):
    name: str
    total: MajorAmount = Field(description="quantity times unit_price, before the discount.")
    quantity: int | float
    unit_price: MajorAmount


class DuploDiscount(DialectSchema):
    type: Literal["amount", "percentage"]
    value: MajorAmount = Field(description="In major units for `amount`; a percent otherwise.")


class DuploTax(DialectSchema):
    type: Literal["percentage"]
    value: MajorAmount = Field(description="A percent, added to every line after the discount.")
    description: str


class DuploPayment(DialectSchema):
    """The latest payment received (not marked unpaid since)."""

    amount: MajorAmount
    method: str
    reference: str | None
    paid_at: datetime


class DuploRisiti(DialectSchema):
    """What Risiti adds to Duplo's document: its own status and the figures behind it."""

    status: Literal["draft", "open", "partially_paid", "paid", "void"]
    currency: str
    subtotal: MajorAmount
    discount_total: MajorAmount
    tax_total: MajorAmount
    total: MajorAmount = Field(description="subtotal - discount_total + tax_total + shipping_fee.")
    amount_paid: MajorAmount
    amount_due: MajorAmount
    issue_date: date
    overdue: bool
    customer_id: UUID | None = Field(description="The customer's id in Risiti's own API.")
    view_url: str = Field(description="The hosted page the customer pays on.")
    pdf_url: str


def _risiti(document: NativeDocument) -> dict[str, Any]:
    figures = ("subtotal", "discount_total", "tax_total", "total", "amount_paid", "amount_due")
    return {
        **{name: document[name] for name in ("status", "currency", "issue_date", "overdue")},
        **{name: major(document, name) for name in figures},
        "customer_id": document["customer"]["id"],
        "view_url": document["view_url"],
        "pdf_url": document["pdf_url"],
    }


def _title(document: NativeDocument) -> str:
    kind = "Receipt" if document["type"] == "receipt" else "Invoice"
    return f"{kind} for {document['customer']['name']}"


def _due_date(document: NativeDocument) -> str | None:
    """Duplo writes a due date as midnight UTC: `2022-05-25T00:00:00.000Z`."""
    due = document["due_date"]
    return f"{due}T00:00:00.000Z" if due else None


def _items(document: NativeDocument) -> list[dict[str, Any]]:
    currency = document["currency"]
    return [
        {
            "name": item["description"],
            "total": major_units(item["amount"], currency),
            "quantity": item["quantity"],
            "unit_price": major_units(item["unit_price"], currency),
        }
        for item in document["items"]
    ]


def _discount(document: NativeDocument) -> dict[str, Any] | None:
    discount = document[_DISCOUNT]
    if not discount:
        return None
    if discount["type"] == "amount":
        return {
            "type": "amount",
            "value": major_units(int(discount["value"]), document["currency"]),
        }
    return {"type": "percentage", "value": Decimal(discount["value"])}


def _tax(document: NativeDocument) -> dict[str, Any] | None:
    """Duplo's one tax; an invoice made natively with several reads as one tax of their
    summed percentage, named by all of theirs (`risiti.tax_total` is the figure either way)."""
    taxes = document["taxes"]
    if not taxes:
        return None
    return {
        "type": "percentage",
        "value": sum((Decimal(tax["percentage"]) for tax in taxes), Decimal(0)),
        "description": ", ".join(tax["name"] for tax in taxes),
    }


def _payment(document: NativeDocument) -> dict[str, Any] | None:
    received = [payment for payment in document["payments"] if payment["reversed_at"] is None]
    if not received:
        return None
    latest = received[-1]
    return {
        "amount": major_units(latest["amount"], document["currency"]),
        "method": latest["method"],
        "reference": latest["reference"],
        "paid_at": latest["paid_at"],
    }


class DuploInvoice(DialectSchema):
    """An invoice as Duplo's create response shows it."""

    id: Annotated[UUID, Reads(lambda d: d["id"])] = Field(
        description="The invoice's id in Risiti's own API (`/v1/invoices/{id}`) too."
    )
    invoice_number: Annotated[str | None, Reads(lambda d: d["document_number"])] = Field(
        description="The number sent as `invoice_number`, else the series'; null while a draft."
    )
    title: Annotated[str, Reads(_title)]
    recipient: Annotated[str | None, Reads(lambda d: d[_RECIPIENT])] = Field(
        description="The customer's external_id (Duplo's `cus_…`), else its Risiti id; null "
        "for an invoice made natively for a customer named inline."
    )
    due_date: Annotated[str | None, Reads(_due_date)]
    items: Annotated[list[DuploItem], Reads(_items)]
    shipping_fee: Annotated[MajorAmount, Reads(lambda d: major(d, "shipping_fee"))]
    discount: Annotated[DuploDiscount | None, Reads(_discount)]
    tax: Annotated[DuploTax | None, Reads(_tax)]
    note: Annotated[str | None, Reads(lambda d: d["note"])]
    status: Annotated[
        DuploStatus, Reads(lambda d: "draft" if d["status"] == "draft" else "invoice")
    ] = Field(description="`invoice` once issued, whatever was paid: see `payment`, `risiti`.")
    public_id: Annotated[str, Reads(lambda d: d["view_token"])] = Field(
        description="The hosted page's id: `risiti.view_url` ends with it."
    )
    account: Annotated[None, Reads(lambda d: None)] = Field(
        description="Always null: Risiti opens no virtual bank account per invoice; the "
        "customer pays on the hosted page (`risiti.view_url`), which shows the business' bank "
        "details (docs/hosted.md)."
    )
    payment: Annotated[DuploPayment | None, Reads(_payment)]
    created_at: Annotated[datetime, Reads(lambda d: d["created_at"])]
    update_at: Annotated[datetime, Reads(lambda d: d["updated_at"])] = Field(
        description="Spelled as Duplo spells it."
    )
    business_id: Annotated[str | None, Reads(lambda d: d["metadata"].get(BUSINESS_ID))] = Field(
        description="The `business_id` the create request sent (kept in the invoice's metadata "
        f"as `{BUSINESS_ID}`); null for an invoice made natively."
    )
    risiti: Annotated[DuploRisiti, Reads(_risiti)]
