"""Events are a stored contract (CONVENTIONS): `Invoice.PaymentsReversed` is at class_version 2,
and a version 1 event, as stored before, still reads, through its upcaster."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.eventstore.mapper import create_mapper

NOW = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)
V1_STATE = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-04-16T09:00:00+00:00"},'
    b'"reason":"transfer bounced",'
    b'"reversed_at":{"_type_":"datetime_iso","_data_":"2026-04-16T09:00:00+00:00"}}'
)


def _partly_paid_twice() -> Invoice:
    draft = InvoiceDraft(
        account_id=uuid4(),
        livemode=False,
        document_type="invoice",
        currency="NGN",
        customer={"name": "AfriTech Solutions"},
        items=[{"description": "Setup", "quantity": Decimal(1), "unit_price": 250000}],
        issue_date=date(2026, 4, 15),
        accept_partial_payments=True,
    )
    invoice = Invoice.create(draft, view_token="token")
    invoice.finalize(document_number="INV-2026-0001", finalized_at=NOW)
    for amount in (50000, 70000):
        invoice.record_payment(
            payment_id=uuid4(), amount=amount, method="transfer", reference=None, paid_at=NOW
        )
    return invoice


def test_a_new_payments_reversed_event_is_stored_at_version_2_naming_its_payments() -> None:
    invoice = _partly_paid_twice()
    invoice.mark_unpaid(reason="transfer bounced", reversed_at=NOW)

    stored = create_mapper().to_stored_event(list(invoice.collect_events())[-1])
    state = json.loads(stored.state)

    assert state["class_version"] == 2
    assert [p["_data_"] for p in state["payment_ids"]] == [p["id"].hex for p in invoice.payments]


def test_a_version_1_payments_reversed_event_reads_through_its_upcaster() -> None:
    mapper = create_mapper()
    invoice = _partly_paid_twice()
    stored = [mapper.to_stored_event(e) for e in invoice.collect_events()]
    old = StoredEvent(
        invoice.id, invoice.version + 1, "risiti.domain.invoice:Invoice.PaymentsReversed", V1_STATE
    )

    folded: Any = None
    for record in [*stored, old]:
        event: Any = mapper.to_domain_event(record)
        folded = event.mutate(folded)

    assert event.payment_ids is None  # version 1 meant: every payment not reversed yet
    assert (folded.status, folded.amount_paid, folded.amount_due) == ("open", 0, 250000)
    assert all(p["reversed_at"] == datetime(2026, 4, 16, 9, tzinfo=UTC) for p in folded.payments)
    assert {p["reversal_reason"] for p in folded.payments} == {"transfer bounced"}
