"""What each recorded event means to the outside world: webhook event types and payloads
(DESIGN.md §7). The dispatcher and the account's event feed both use this one mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from risiti.domain import calendar
from risiti.domain.customer import Customer
from risiti.domain.invoice import PAID, PARTIALLY_PAID, Invoice
from risiti.domain.product import Product
from risiti.presentation.customers import customer_record
from risiti.presentation.documents import invoice_record, present
from risiti.presentation.products import product_record

_NAMESPACE = uuid5(NAMESPACE_URL, "risiti:events")
_DELIVERY_NAMESPACE = uuid5(NAMESPACE_URL, "risiti:webhook-deliveries")
_CALLBACK_NAMESPACE = uuid5(NAMESPACE_URL, "risiti:invoice-callbacks")

CALLBACK_EVENTS = ("invoice.paid", "receipt.created")
"""The public events an invoice's `callback_url` is called with: the document is paid."""


# Events whose public meaning does not depend on the invoice's figures.
_LIFECYCLE_TYPES: tuple[tuple[type[object], str], ...] = (
    (Invoice.Created, "invoice.created"),
    (Invoice.Updated, "invoice.updated"),
    (Invoice.Amended, "invoice.updated"),
    (Invoice.PaymentsReversed, "invoice.updated"),
    (Invoice.Voided, "invoice.voided"),
    (Invoice.Overdue, "invoice.overdue"),
    (Invoice.Sent, "invoice.sent"),
    (Invoice.Deleted, "invoice.deleted"),
)


def invoice_event_types(event: object, status_before: str | None, after: Invoice) -> list[str]:
    """The public events one Invoice event fires, given the status before it and the invoice
    after it. A send request fires nothing: `invoice.sent` is for each channel once sent."""
    if _issues_receipt(event, after):
        # A receipt is issued paid: its issuing is one public event, once it is paid.
        return ["receipt.created"] if after.status == PAID and status_before != PAID else []
    if isinstance(event, Invoice.Finalized):
        return ["invoice.finalized"] + (["invoice.paid"] if after.status == PAID else [])
    if isinstance(event, Invoice.PaymentRecorded):
        settled = {PAID: "invoice.paid", PARTIALLY_PAID: "invoice.partially_paid"}
        return ["invoice.payment_recorded", settled[after.status]]
    return [name for kind, name in _LIFECYCLE_TYPES if isinstance(event, kind)]


def _issues_receipt(event: object, after: Invoice) -> bool:
    """Whether the event is part of a receipt's issuing: created, numbered, paid the first time."""
    issuing = (Invoice.Created, Invoice.Finalized, Invoice.PaymentRecorded)
    return (
        after.document_type == "receipt" and isinstance(event, issuing) and len(after.payments) <= 1
    )


def public_event_id(originator_id: UUID, originator_version: int, event_type: str) -> str:
    """The same id for the same event every time it is derived: webhook retries reuse it."""
    return "evt_" + uuid5(_NAMESPACE, f"{originator_id}:{originator_version}:{event_type}").hex


def delivery_id(event_id: str, endpoint_id: UUID) -> UUID:
    """The same delivery id for the same event and endpoint, so a batch dispatched again, or a
    dispatcher restarted mid-batch, inserts no second delivery."""
    return uuid5(_DELIVERY_NAMESPACE, f"{event_id}:{endpoint_id}")


def environment(livemode: bool) -> str:
    """The `environment` a payload names: live data is `production`, as Kredo's says."""
    return "production" if livemode else "test"


def invoice_callback_id(invoice_id: UUID) -> UUID:
    """Where an invoice's callbacks are delivered to and logged under, as an endpoint's are
    under its id: `GET /v1/invoices/{id}/callbacks` lists them."""
    return uuid5(_CALLBACK_NAMESPACE, f"invoice:{invoice_id}")


def callback_signer_id(account_id: UUID, livemode: bool) -> UUID:
    """Whose secret signs an account's callbacks in one mode (kept as an endpoint's are)."""
    return uuid5(_CALLBACK_NAMESPACE, f"signer:{account_id}:{livemode}")


def event_payload(
    event_type: str, aggregate: Any, *, recorded_at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """The Standard Webhooks payload of one public event about an aggregate, as it is just
    after the event (DESIGN.md §7); the same event always gets the same id."""
    return {
        "id": public_event_id(aggregate.id, aggregate.version, event_type),
        "event": event_type,
        "environment": environment(aggregate.livemode),
        "created_at": recorded_at.isoformat(),
        "data": data,
    }


def invoice_event_payload(
    event_type: str,
    invoice: Invoice,
    *,
    recorded_at: datetime,
    base_url: str,
) -> dict[str, Any]:
    """The payload of one public event about an invoice: the whole invoice as it was then."""
    return event_payload(
        event_type,
        invoice,
        recorded_at=recorded_at,
        data=present(invoice_record(invoice), base_url=base_url, today=calendar.today()),
    )


def customer_event_payload(
    event_type: str, customer: Customer, *, recorded_at: datetime
) -> dict[str, Any]:
    return event_payload(
        event_type,
        customer,
        recorded_at=recorded_at,
        data=customer_record(customer),
    )


def product_event_payloads(
    event: object, product: Product, *, recorded_at: datetime
) -> list[dict[str, Any]]:
    """The public events a Product event fires, with the product just after it: every stock
    change is `inventory.adjusted`; a fall to the low-stock threshold or to zero also fires
    `product.stock_low` or `product.out_of_stock`."""
    if not isinstance(event, Product.StockAdjusted):
        return []
    event_types = ["inventory.adjusted"] + [
        f"product.{crossed}" for crossed in product.crossings(event.delta)
    ]
    return [
        event_payload(
            event_type,
            product,
            recorded_at=recorded_at,
            data=product_record(product),
        )
        for event_type in event_types
    ]
