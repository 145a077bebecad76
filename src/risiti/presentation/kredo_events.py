"""Kredo's documented webhook body (DESIGN.md §11, docs/webhooks.md), for the endpoints whose
`payload_format` is `kredo`: an integration written against Kredo reads it unchanged.

Kredo documents one event, `invoice.paid`:
`{"event", "environment", "data": {"document_id", "amount_paid", "payment_method", "paid_at"}}`,
amounts in major units. Built from the invoice just after the event; no I/O.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from risiti.domain.invoice import Invoice
from risiti.domain.money import major_units
from risiti.presentation.dialects import json_number
from risiti.presentation.json_text import json_text
from risiti.presentation.public_events import environment


def kredo_public_id(invoice: Invoice) -> str:
    """Kredo's `public_id` (and a webhook's `document_id`): the invoice's view token, which its
    hosted `view_url` ends with, as Kredo's `view_url` ends with its `public_id`."""
    return invoice.view_token


def kredo_invoice_paid(invoice: Invoice) -> dict[str, Any]:
    """Kredo's `invoice.paid` body for a paid invoice: what was paid in all, and the method and
    time of the payment that settled it."""
    settling = [payment for payment in invoice.payments if payment["reversed_at"] is None][-1]
    return {
        "event": "invoice.paid",
        "environment": environment(invoice.livemode),
        "data": {
            "document_id": kredo_public_id(invoice),
            "amount_paid": json_number(major_units(invoice.amount_paid, invoice.currency)),
            "payment_method": settling["method"],
            "paid_at": settling["paid_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def kredo_event_body(event_type: str, invoice: Invoice) -> str | None:
    """The Kredo-format body of a public event about an invoice, as the JSON text sent; None
    for an event Kredo has no body for (such an endpoint cannot subscribe to it)."""
    if event_type != "invoice.paid":
        return None
    return json_text(kredo_invoice_paid(invoice))
