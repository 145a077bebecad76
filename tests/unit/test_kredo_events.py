"""Kredo's `invoice.paid` body, rendered from a paid invoice (DESIGN.md §11, docs/webhooks.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import pytest

from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.domain.money import major_units
from risiti.domain.webhook_endpoint import KREDO, WebhookEndpoint, check_events
from risiti.presentation.dialects import json_number
from risiti.presentation.kredo_events import kredo_event_body, kredo_invoice_paid

EXAMPLES = Path(__file__).parents[2] / ".." / "shared" / "seeds" / "examples"
LAGOS = timezone(timedelta(hours=1))


def _paid(unit_price: int, *, livemode: bool = True, currency: str = "NGN") -> Invoice:
    draft = InvoiceDraft(
        account_id=uuid4(),
        livemode=livemode,
        document_type="invoice",
        currency=currency,
        customer={"name": "AfriTech Solutions"},
        items=[{"description": "Server Migration setup", "quantity": 1, "unit_price": unit_price}],
        issue_date=date(2026, 4, 1),
    )
    invoice = Invoice.create(draft, view_token="INV-94A2B7F1C")
    invoice.finalize("INV-2026-0089", datetime(2026, 4, 1, tzinfo=UTC))
    invoice.mark_paid(
        payment_id=uuid4(),
        method="Card (Paystack API)",
        reference=None,
        paid_at=datetime(2026, 4, 15, 15, 30, 0, 250000, tzinfo=LAGOS),
    )
    return invoice


def test_a_paid_invoice_reads_as_kredos_documented_example() -> None:
    example = json.loads((EXAMPLES / "kredo-webhook-invoice-paid.json").read_bytes())

    assert json.loads(kredo_event_body("invoice.paid", _paid(25000000)) or "") == example


def test_test_mode_is_kredos_test_environment() -> None:
    assert kredo_invoice_paid(_paid(100, livemode=False))["environment"] == "test"


@pytest.mark.parametrize(
    ("minor", "currency", "written"),
    [(25000050, "NGN", b"250000.5"), (25000000, "NGN", b"250000"), (7, "XOF", b"7")],
)
def test_amount_paid_is_written_in_major_units_exactly(
    minor: int, currency: str, written: bytes
) -> None:
    body = kredo_event_body("invoice.paid", _paid(minor, currency=currency)) or ""

    assert f'"amount_paid":{written.decode()},'.encode() in body.encode()


def test_a_whole_major_amount_is_a_json_integer() -> None:
    assert json_number(major_units(25000000, "NGN")) == 250000
    assert isinstance(json_number(major_units(25000000, "NGN")), int)


@pytest.mark.parametrize("event_type", ["invoice.created", "invoice.partially_paid"])
def test_kredo_has_no_body_for_events_it_does_not_document(event_type: str) -> None:
    assert kredo_event_body(event_type, _paid(100)) is None


@pytest.mark.parametrize("events", [["invoice.created"], ["*"], ["invoice.paid", "invoice.sent"]])
def test_a_kredo_format_endpoint_takes_invoice_paid_alone(events: list[str]) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        check_events(events, KREDO)
    assert refused.value.field == "events"


def test_a_kredo_format_endpoint_records_its_format() -> None:
    endpoint = WebhookEndpoint.register(
        account_id=uuid4(),
        livemode=False,
        url="https://example.com/kredo",
        events=["invoice.paid"],
        payload_format=KREDO,
    )

    assert endpoint.payload_format == KREDO
    with pytest.raises(InvalidFieldError) as refused:
        endpoint.update({"events": ["invoice.created"]})
    assert refused.value.field == "events"


def test_an_unknown_payload_format_is_refused() -> None:
    with pytest.raises(InvalidFieldError) as refused:
        check_events(["invoice.paid"], "stripe")
    assert refused.value.field == "payload_format"
