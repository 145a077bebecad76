"""Paycashless' documents (../shared/seeds/paycashless-create-invoice.txt, "Response"): an
invoice as Paycashless answers it, camelCase, amounts in minor units as Risiti's are, its five
status words; what Paycashless does not document is under `risiti`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from risiti.presentation.dialects import DialectSchema, NativeDocument, Reads

PaycashlessStatus = Literal["draft", "open", "partially_paid", "paid", "cancelled"]

# Paycashless' words for Risiti's statuses: the same but one, a voided invoice is `cancelled`.
PAYCASHLESS_STATUS: dict[str, PaycashlessStatus] = {
    "draft": "draft",
    "open": "open",
    "partially_paid": "partially_paid",
    "paid": "paid",
    "void": "cancelled",
}


class CamelCase(DialectSchema):
    """Sent under camelCase names (`amountDue`), as Paycashless writes them."""

    model_config = ConfigDict(alias_generator=to_camel)


class PaycashlessItem(CamelCase):
    id: str = Field(
        description="The line's place on the invoice, from `1`: Risiti's lines have no ids of "
        "their own, and their order never changes once issued."
    )
    name: str
    quantity: float = Field(description="At most 4 decimal places; an integer when whole.")
    price: int = Field(description="The unit price in the smallest currency unit.")


class PaycashlessRisitiItem(CamelCase):
    description: str | None = Field(
        description="The item's `description`, kept beside its `name` (natively `details`)."
    )
    amount: int = Field(description="quantity times price, in the smallest currency unit.")


class PaycashlessRisiti(CamelCase):
    """What Risiti adds to Paycashless' document: the figures behind `amountDue`, the fields
    Paycashless takes but does not send back, and the links."""

    subtotal: int
    tax_total: int = Field(description="The exclusive taxes added to the subtotal.")
    total: int
    accept_partial_payments: bool
    callback_url: str | None
    return_url: str | None
    metadata: dict[str, Any]
    items: list[PaycashlessRisitiItem]
    pdf_url: str
    created_at: datetime


def _risiti(document: NativeDocument) -> dict[str, Any]:
    return {
        "subtotal": document["subtotal"],
        "taxTotal": document["tax_total"],
        "total": document["total"],
        "acceptPartialPayments": document["accept_partial_payments"],
        "callbackUrl": document.get("callback_url"),
        "returnUrl": document.get("return_url"),
        "metadata": document["metadata"],
        "items": [
            {"description": item.get("details"), "amount": item["amount"]}
            for item in document["items"]
        ],
        "pdfUrl": document["pdf_url"],
        "createdAt": document["created_at"],
    }


def _items(document: NativeDocument) -> list[dict[str, Any]]:
    return [
        {
            "id": str(place),
            "name": item["description"],
            "quantity": item["quantity"],
            "price": item["unit_price"],
        }
        for place, item in enumerate(document["items"], start=1)
    ]


def _due_date(document: NativeDocument) -> str | None:
    """The due day at its start, in UTC (Risiti's due dates are days); overdue from the next."""
    due = document["due_date"]
    return f"{due}T00:00:00Z" if due else None


def _sent_by_email(document: NativeDocument) -> bool:
    return any(request["email"] for request in document["send_log"])


class PaycashlessInvoice(CamelCase):
    """An invoice as Paycashless' create response shows it; amounts in the smallest unit."""

    id: Annotated[UUID, Reads(lambda d: d["id"])] = Field(
        description="The invoice's id, the same in Risiti's own API (`/v1/invoices/{id}`)."
    )
    status: Annotated[PaycashlessStatus, Reads(lambda d: PAYCASHLESS_STATUS[d["status"]])] = Field(
        description="`cancelled` is a voided invoice."
    )
    customer_id: Annotated[UUID | None, Reads(lambda d: d["customer"]["id"])] = Field(
        description="The customer the invoice's email links it to (`/v1/customers/{id}`)."
    )
    description: Annotated[str | None, Reads(lambda d: d["description"])]
    currency: Annotated[str, Reads(lambda d: d["currency"])]
    reference: Annotated[str | None, Reads(lambda d: d["reference"])]
    send_email: Annotated[bool, Reads(_sent_by_email)] = Field(
        description="Whether the invoice was sent, or is being sent, to an email address."
    )
    due_date: Annotated[datetime | None, Reads(_due_date)] = Field(
        description="The due day at 00:00 UTC; the invoice is overdue from the day after."
    )
    live_mode: Annotated[bool, Reads(lambda d: d["livemode"])]
    number: Annotated[str | None, Reads(lambda d: d["document_number"])] = Field(
        description="Null while a draft; given when it is finalized."
    )
    amount_due: Annotated[int, Reads(lambda d: d["amount_due"])]
    amount_paid: Annotated[int, Reads(lambda d: d["amount_paid"])]
    total_inclusive_tax_amount: Annotated[int, Reads(lambda d: d["tax_inclusive_total"])] = Field(
        description="The taxes contained in the prices."
    )
    total_exclusive_tax_amount: Annotated[int, Reads(lambda d: d["tax_total"])] = Field(
        description="The taxes added to the prices."
    )
    tax_rate_ids: Annotated[
        list[UUID], Reads(lambda d: [t["tax_rate_id"] for t in d["taxes"] if t["tax_rate_id"]])
    ] = Field(description="The Risiti ids of the tax rates applied (sent by id or external_id).")
    items: Annotated[list[PaycashlessItem], Reads(_items)]
    max_installments: Annotated[int | None, Reads(lambda d: d["max_installments"])]
    hosted_invoice_url: Annotated[str, Reads(lambda d: d["view_url"])]
    risiti: Annotated[PaycashlessRisiti, Reads(_risiti)]
