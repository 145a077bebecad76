"""How an invoice reads, the same in every channel: API, list, webhook (DESIGN.md §6).

`invoice_record` is what does not depend on where or when it is read, so read models can store
it; `present` adds the links and the day-dependent `overdue`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from risiti.domain.invoice import (
    CANCELLED,
    FAILED,
    REQUESTED,
    SENT,
    Invoice,
    is_overdue,
)


def invoice_record(invoice: Invoice) -> dict[str, Any]:
    """The invoice's fields as JSON-ready values (amounts in minor units)."""
    totals = invoice.totals
    return {
        "id": str(invoice.id),
        "object": "invoice",
        "document_number": invoice.document_number,
        "type": invoice.document_type,
        "status": invoice.status,
        "currency": invoice.currency,
        "customer": _customer(invoice.customer),
        "items": [
            _item(item, priced.amount, priced.discount_amount, priced.tax_amount)
            for item, priced in zip(invoice.items, totals.lines, strict=True)
        ],
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "tax_total": totals.tax_total,
        "tax_inclusive_total": totals.tax_inclusive_total,
        "shipping_fee": totals.shipping_fee,
        "total": totals.total,
        "amount_paid": invoice.amount_paid,
        "amount_due": invoice.amount_due,
        "accept_partial_payments": invoice.accept_partial_payments,
        "max_installments": invoice.max_installments,
        "taxes": [_tax(tax) for tax in invoice.taxes],
        "payments": [_payment(p) for p in invoice.payments],
        "send_log": [_send_request(request) for request in invoice.send_requests],
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "view_token": invoice.view_token,
        "description": invoice.description,
        "reference": invoice.reference,
        "note": invoice.note,
        "metadata": invoice.metadata,
        "version": invoice.version,
        "livemode": invoice.livemode,
        "created_at": invoice.created_on.isoformat(),
        "updated_at": invoice.modified_on.isoformat(),
    }


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
    return orjson.dumps(record).decode()


def present_json(
    stored: str,
    *,
    view_token: str,
    status: str,
    due_date: date | None,
    base_url: str,
    today: date,
) -> str:
    """`present` for a record stored as `record_json(...)`: the same document, made by editing
    the text instead of decoding and encoding it, for lists read all day."""
    body = stored.replace(f',"view_token":{record_json_value(view_token)}', "", 1)
    overdue = "true" if is_overdue(status, due_date, today) else "false"
    link = record_json_value(view_url(base_url, view_token))
    pdf = record_json_value(pdf_url(base_url, view_token))
    return f'{body[:-1]},"view_url":{link},"pdf_url":{pdf},"overdue":{overdue}}}'


def record_json_value(value: str) -> str:
    return orjson.dumps(value).decode()


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


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _number(quantity: Decimal) -> int | float:
    """Quantities read as JSON numbers; at most 4 decimal places, so a float carries them."""
    return int(quantity) if quantity == quantity.to_integral_value() else float(quantity)
