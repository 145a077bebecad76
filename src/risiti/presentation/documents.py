"""How an invoice reads, the same in every channel: API, list, webhook (DESIGN.md §6).

`Invoice` is the wire document's model, and the one place a field of it is declared: its type
and description (for the OpenAPI document) and, in `From`, where its value comes from (for the
document sent). `invoice_record` is what does not depend on where or when it is read, so read
models can store it; `present` adds the links and the day-dependent `overdue`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from risiti.domain import invoice as domain
from risiti.domain.invoice import (
    CANCELLED,
    FAILED,
    REQUESTED,
    SENT,
    is_overdue,
)
from risiti.presentation.json_text import json_text

InvoiceStatus = Literal["draft", "open", "partially_paid", "paid", "void"]


class Schema(BaseModel):
    """A document's model: unknown keys are refused, so the schemathesis test fails on a field
    sent without a line in its model."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class From:
    """Where a field of a document takes its value: a function of the aggregate it is read off
    (the invoice, the customer...) returning a JSON-ready value (a string for an id or a date)."""

    read: Callable[[Any], Any]


class InvoiceCustomer(Schema):
    """The customer as the invoice keeps it; `id` links a saved customer, if any."""

    id: UUID | None
    name: str
    email: str | None
    phone: str | None
    address: str | None


class InvoiceItem(Schema):
    description: str
    details: str | None = Field(
        None, description="More about the line, under its label (Paycashless' item description)."
    )
    quantity: float = Field(description="At most 4 decimal places; an integer when whole.")
    unit_price: int = Field(description="Minor units (kobo for NGN).")
    amount: int = Field(description="quantity times unit_price, in minor units.")
    discount_amount: int
    tax_amount: int
    product_id: UUID | None


class InvoiceTax(Schema):
    name: str
    percentage: str = Field(description="A decimal string, exact to 4 places.", examples=["7.5"])
    inclusive: bool
    tax_rate_id: UUID | None


class Payment(Schema):
    id: UUID
    amount: int
    method: str
    reference: str | None
    paid_at: datetime
    reversed_at: datetime | None = Field(description="Set when the payment was marked unpaid.")


class SendDelivery(Schema):
    channel: Literal["email", "sms"]
    to: str
    status: Literal["requested", "sent", "failed", "cancelled"]
    sent_at: datetime | None
    error: str | None = Field(description="Why it failed, or why it was cancelled.")


class SendRequest(Schema):
    email: str | None
    phone: str | None
    requested_at: datetime
    reminder_days: int | None = Field(
        description="For a reminder, the day of the account's schedule it is for; else null."
    )
    status: Literal["requested", "sent", "failed", "cancelled"] = Field(
        description="`requested` until every channel is settled; then `sent` if every channel "
        "was sent, `cancelled` if every one was cancelled, else `failed`."
    )
    deliveries: list[SendDelivery]


class Invoice(Schema):
    """An invoice or receipt; amounts are integers in minor units."""

    id: Annotated[UUID, From(lambda i: str(i.id))]
    object: Annotated[Literal["invoice"], From(lambda i: "invoice")]
    document_number: Annotated[str | None, From(lambda i: i.document_number)] = Field(
        description="Null while a draft."
    )
    type: Annotated[Literal["invoice", "receipt"], From(lambda i: i.document_type)]
    status: Annotated[InvoiceStatus, From(lambda i: i.status)]
    currency: Annotated[str, From(lambda i: i.currency)]
    customer: Annotated[InvoiceCustomer, From(lambda i: _customer(i.customer))]
    items: Annotated[list[InvoiceItem], From(lambda i: _items(i))]
    subtotal: Annotated[int, From(lambda i: i.totals.subtotal)]
    discount_total: Annotated[int, From(lambda i: i.totals.discount_total)]
    tax_total: Annotated[int, From(lambda i: i.totals.tax_total)]
    tax_inclusive_total: Annotated[int, From(lambda i: i.totals.tax_inclusive_total)]
    shipping_fee: Annotated[int, From(lambda i: i.totals.shipping_fee)]
    total: Annotated[int, From(lambda i: i.totals.total)]
    amount_paid: Annotated[int, From(lambda i: i.amount_paid)]
    amount_due: Annotated[int, From(lambda i: i.amount_due)]
    accept_partial_payments: Annotated[bool, From(lambda i: i.accept_partial_payments)]
    max_installments: Annotated[int | None, From(lambda i: i.max_installments)]
    taxes: Annotated[list[InvoiceTax], From(lambda i: [_tax(tax) for tax in i.taxes])]
    payments: Annotated[list[Payment], From(lambda i: [_payment(p) for p in i.payments])]
    send_log: Annotated[
        list[SendRequest], From(lambda i: [_send_request(r) for r in i.send_requests])
    ]
    issue_date: Annotated[date, From(lambda i: i.issue_date.isoformat())]
    due_date: Annotated[date | None, From(lambda i: _iso(i.due_date))]
    description: Annotated[str | None, From(lambda i: i.description)]
    reference: Annotated[str | None, From(lambda i: i.reference)]
    note: Annotated[str | None, From(lambda i: i.note)]
    callback_url: Annotated[str | None, From(lambda i: i.callback_url)] = Field(
        description="Called with the signed `invoice.paid` payload once paid (docs/webhooks.md)."
    )
    return_url: Annotated[str | None, From(lambda i: i.return_url)] = Field(
        description="Where the hosted page sends the customer after they pay."
    )
    metadata: Annotated[dict[str, Any], From(lambda i: i.metadata)]
    version: Annotated[int, From(lambda i: i.version)] = Field(
        description="Also the `ETag`; send it as `If-Match` to change it."
    )
    livemode: Annotated[bool, From(lambda i: i.livemode)]
    created_at: Annotated[datetime, From(lambda i: i.created_on.isoformat())]
    updated_at: Annotated[datetime, From(lambda i: i.modified_on.isoformat())]
    # Presented, not recorded: they depend on where and when the invoice is read (`present`).
    view_url: str = Field(description="The hosted page a customer can open.")
    pdf_url: str = Field(description="The invoice as an A4 PDF, opened without a key.")
    overdue: bool


PRESENTED = ("view_url", "pdf_url", "overdue")
"""The fields `present` adds to a record."""


def recorded_fields(model: type[Schema]) -> tuple[tuple[str, Callable[[domain.Invoice], Any]], ...]:
    """Each recorded field of `model` and how it is read, in the model's order: worked out once
    at import, so that building a record is one loop, and a field that says neither where it
    comes from nor that it is presented stops the process from starting."""
    fields = []
    for name, info in model.model_fields.items():
        sources = [meta for meta in info.metadata if isinstance(meta, From)]
        if sources:
            fields.append((name, sources[0].read))
        elif name not in PRESENTED:
            raise TypeError(
                f"{model.__name__}.{name} says neither where it comes From nor is presented"
            )
    return tuple(fields)


def built_from(model: type[Schema]) -> Callable[[Any], dict[str, Any]]:
    """The function that builds `model`'s document off an aggregate, each field as its `From`
    says, in the model's order; for models that present nothing besides."""
    fields = recorded_fields(model)

    def build(source: Any) -> dict[str, Any]:
        return {name: read(source) for name, read in fields}

    return build


_RECORDED = recorded_fields(Invoice)


def invoice_record(invoice: domain.Invoice) -> dict[str, Any]:
    """The invoice's recorded fields as JSON-ready values (amounts in minor units), and its
    `view_token`, which the record keeps and `present` turns into links."""
    record = {name: read(invoice) for name, read in _RECORDED}
    record["view_token"] = invoice.view_token
    return record


def _items(invoice: domain.Invoice) -> list[dict[str, Any]]:
    return [
        _item(item, priced.amount, priced.discount_amount, priced.tax_amount)
        for item, priced in zip(invoice.items, invoice.totals.lines, strict=True)
    ]


def present(record: dict[str, Any], *, base_url: str, today: date) -> dict[str, Any]:
    """The record as a client reads it: with its hosted link and whether it is overdue."""
    document = {k: v for k, v in record.items() if k != "view_token"}
    document["view_url"] = view_url(base_url, record["view_token"])
    document["pdf_url"] = pdf_url(base_url, record["view_token"])
    due = record["due_date"]
    document["overdue"] = is_overdue(
        record["status"], date.fromisoformat(due) if due else None, today
    )
    return document


def record_json(record: dict[str, Any]) -> str:
    """The record as the compact JSON text read models store and lists answer with."""
    return json_text(record)


class StoredInvoice(Protocol):
    """An invoice's record as a read model stores it (`record_json(...)`), with what presenting
    it needs besides: its view token and the fields `overdue` is worked out from."""

    @property
    def document(self) -> str: ...
    @property
    def view_token(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...


def present_json(stored: Iterable[StoredInvoice], *, base_url: str, today: date) -> str:
    """`present` for records stored as `record_json(...)`, as the JSON text of the list of
    their documents (`, ` between them): the same documents, made by editing the text instead
    of decoding and encoding it, for lists read all day. The page's text is joined once, from
    pieces, rather than each document's first."""
    view_before, view_after = _around_token(view_url, base_url)
    pdf_before, pdf_after = _around_token(pdf_url, base_url)
    links = f',"view_url":{view_before}'
    between = f'{view_after},"pdf_url":{pdf_before}'
    after = f'{pdf_after},"overdue":'
    pieces = ["["]
    for invoice in stored:
        token, text = invoice.view_token, invoice.document
        # The record ends with its view_token (`invoice_record`). A token that stands there as
        # it is is its own JSON text (escaping lengthens), and cutting it off is cheaper than
        # searching the whole text for it.
        if text.endswith(f',"view_token":"{token}"}}'):
            body = text[: -len(token) - _VIEW_TOKEN_FRAME]
        else:
            body, token = _without_escaped_view_token(text, token)
        overdue = is_overdue(invoice.status, invoice.due_date, today)
        pieces += (
            body,
            links,
            token,
            between,
            token,
            after,
            "true}" if overdue else "false}",
            ", ",
        )
    pieces[-1] = "]" if len(pieces) > 1 else "[]"
    return "".join(pieces)


def _around_token(link: Callable[[str, str], str], base_url: str) -> tuple[str, str]:
    """The JSON text of a link, before and after its token: a JSON string is the escapes of its
    characters one after another, so a token's own text goes in between."""
    before, _, after = record_json_value(link(base_url, _TOKEN)).rpartition(_TOKEN)
    return before, after


_TOKEN = "token"


def _without_escaped_view_token(text: str, token: str) -> tuple[str, str]:
    """The stored text without its view_token and closing brace, and the token's JSON text
    (within its quotes), for a token that JSON escapes."""
    token_json = record_json_value(token)
    return text.replace(f',"view_token":{token_json}', "", 1)[:-1], token_json[1:-1]


_VIEW_TOKEN_FRAME = len(',"view_token":""}')


def record_json_value(value: str) -> str:
    return json_text(value)


def view_url(base_url: str, view_token: str) -> str:
    return f"{base_url}/i/{view_token}"


def pdf_url(base_url: str, view_token: str) -> str:
    """The hosted page's PDF: like `view_url`, a link the customer opens without a key."""
    return f"{base_url}/i/{view_token}.pdf"


def _customer(customer: dict[str, Any]) -> dict[str, Any]:
    fields = {key: customer.get(key) for key in ("name", "email", "phone", "address")}
    return {"id": str(customer["id"]) if customer.get("id") else None} | fields


def _tax(tax: dict[str, Any]) -> dict[str, Any]:
    tax_rate_id = tax.get("tax_rate_id")
    return {
        "name": tax.get("name", ""),
        "percentage": str(tax["percentage"]),
        "inclusive": bool(tax.get("inclusive", False)),
        "tax_rate_id": str(tax_rate_id) if tax_rate_id else None,
    }


def _send_request(request: dict[str, Any]) -> dict[str, Any]:
    deliveries = [
        {
            "channel": channel,
            "to": delivery["to"],
            "status": delivery["status"],
            "sent_at": _iso(delivery["sent_at"]),
            "error": delivery["error"],
        }
        for channel, delivery in request["deliveries"].items()
    ]
    return {
        "email": request["email"],
        "phone": request["phone"],
        "requested_at": request["requested_at"].isoformat(),
        "reminder_days": request["reminder_days"],
        "status": _send_status([delivery["status"] for delivery in deliveries]),
        "deliveries": deliveries,
    }


def _send_status(statuses: list[str]) -> str:
    """A request is `requested` until every channel is settled; then `sent` if every channel
    was sent, `cancelled` if every one was cancelled, and `failed` otherwise."""
    if REQUESTED in statuses:
        return REQUESTED
    for settled in (SENT, CANCELLED):
        if all(status == settled for status in statuses):
            return settled
    return FAILED


def _item(item: dict[str, Any], amount: int, discount: int, tax: int) -> dict[str, Any]:
    return {
        "description": item["description"],
        "details": item.get("details"),
        "quantity": _number(Decimal(item["quantity"])),
        "unit_price": item["unit_price"],
        "amount": amount,
        "discount_amount": discount,
        "tax_amount": tax,
        "product_id": str(item["product_id"]) if item.get("product_id") else None,
    }


def _payment(payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(payment["id"]),
        "amount": payment["amount"],
        "method": payment["method"],
        "reference": payment["reference"],
        "paid_at": payment["paid_at"].isoformat(),
        "reversed_at": _iso(payment.get("reversed_at")),
    }


def _iso(moment: date | None) -> str | None:
    return moment.isoformat() if moment else None


def _number(quantity: Decimal) -> int | float:
    """Quantities read as JSON numbers; at most 4 decimal places, so a float carries them."""
    return int(quantity) if quantity == quantity.to_integral_value() else float(quantity)
