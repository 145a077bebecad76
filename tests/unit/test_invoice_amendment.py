"""Amending an issued invoice (DESIGN.md §11, Invoice.ng's `PUT`): its figures change while no
money was received, its history keeps what they were, and its number never changes."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from risiti.domain.errors import InvalidInvoiceError, InvalidStateError
from risiti.domain.invoice import AMENDABLE, EDITABLE_ONCE_ISSUED, Invoice, InvoiceDraft, is_overdue
from risiti.eventstore.mapper import create_mapper

NOW = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)
LATER = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)
NUMBER = "INV-2026-0001"
SETUP = {"description": "Server setup", "quantity": Decimal(1), "unit_price": 150000}
DOMAINS = {"description": "Domain registration", "quantity": Decimal(4), "unit_price": 2500}
VAT = {"name": "VAT", "percentage": Decimal(5), "inclusive": False}


def _open_invoice(**fields: Any) -> Invoice:
    draft = InvoiceDraft(
        **{
            "account_id": uuid4(),
            "livemode": False,
            "document_type": "invoice",
            "currency": "NGN",
            "customer": {"name": "Dana K. Adrian"},
            "items": [SETUP],
            "issue_date": date(2026, 4, 15),
            "accept_partial_payments": True,
        }
        | fields
    )
    invoice = Invoice.create(draft, view_token="token")
    invoice.finalize(document_number=NUMBER, finalized_at=NOW)
    return invoice


def _amend(invoice: Invoice, changes: dict[str, Any], reason: str | None = None) -> None:
    invoice.amend(changes, amended_at=LATER, reason=reason)


def test_amending_an_issued_invoice_records_old_and_new_figures() -> None:
    invoice = _open_invoice()
    invoice.collect_events()

    _amend(invoice, {"items": [SETUP, DOMAINS], "taxes": [VAT]}, reason="Client added domains")

    (amended,) = invoice.collect_events()
    assert isinstance(amended, Invoice.Amended)
    assert amended.previous == {"items": [SETUP], "taxes": []}
    assert amended.changes == {"items": [SETUP, DOMAINS], "taxes": [VAT]}
    assert (amended.total_before, amended.total_after) == (150000, 168000)
    assert (amended.reason, amended.amended_at) == ("Client added domains", LATER)
    assert (invoice.totals.subtotal, invoice.totals.tax_total) == (160000, 8000)
    assert (invoice.totals.total, invoice.amount_due, invoice.status) == (168000, 168000, "open")


def test_an_amended_invoice_keeps_its_number_and_its_rounding_rule() -> None:
    invoice = _open_invoice()

    _amend(invoice, {"items": [DOMAINS], "customer": {"name": "Dana Adrian Ltd"}})

    assert invoice.document_number == NUMBER
    assert invoice.rounding == "per_line_half_up"
    assert invoice.customer == {"name": "Dana Adrian Ltd"}


def test_an_amendment_folds_again_from_its_stored_event() -> None:
    mapper = create_mapper()
    invoice = _open_invoice()
    _amend(invoice, {"items": [SETUP, DOMAINS], "due_date": date(2026, 5, 1)})

    replayed: Any = None
    for event in invoice.collect_events():
        replayed = mapper.to_domain_event(mapper.to_stored_event(event)).mutate(replayed)

    assert replayed.items == invoice.items
    assert (replayed.totals.total, replayed.due_date) == (160000, date(2026, 5, 1))


@pytest.mark.parametrize(
    ("paid", "status"), [(50000, "partially_paid"), (150000, "paid")], ids=["part", "whole"]
)
def test_an_invoice_with_money_received_cannot_be_amended(paid: int, status: str) -> None:
    invoice = _open_invoice()
    invoice.record_payment(
        payment_id=uuid4(), amount=paid, method="transfer", reference=None, paid_at=NOW
    )
    before = copy.deepcopy(vars(invoice))

    with pytest.raises(InvalidStateError) as refused:
        _amend(invoice, {"items": [SETUP, DOMAINS]})

    assert refused.value.current == status
    message = str(refused.value)
    assert f"{paid} of its 150000 NGN was received" in message
    assert "Mark it unpaid first to reverse the payments" in message
    assert "void it and issue a new invoice" in message
    assert vars(invoice) == before


def test_an_invoice_whose_payments_were_reversed_can_be_amended_again() -> None:
    invoice = _open_invoice()
    invoice.mark_paid(payment_id=uuid4(), method="cash", reference=None, paid_at=NOW)
    invoice.mark_unpaid(reason="bounced", reversed_at=NOW)

    _amend(invoice, {"items": [DOMAINS]})

    assert (invoice.status, invoice.totals.total) == ("open", 10000)


@pytest.mark.parametrize(
    ("changes", "named"),
    [({"currency": "USD"}, "currency"), ({"requested_number": "INV-99"}, "requested_number")],
)
def test_an_amendment_never_changes_the_currency_or_the_number(
    changes: dict[str, Any], named: str
) -> None:
    invoice = _open_invoice()
    before = copy.deepcopy(vars(invoice))

    with pytest.raises(InvalidStateError) as refused:
        _amend(invoice, changes | {"items": [DOMAINS]})

    assert f"Cannot change {named} of an invoice once issued" in str(refused.value)
    assert "void it and issue a new invoice" in str(refused.value)
    assert vars(invoice) == before


def test_an_amendment_that_sends_the_same_currency_and_figures_appends_nothing() -> None:
    invoice = _open_invoice()
    invoice.collect_events()

    _amend(invoice, {"currency": "NGN", "items": [SETUP]})

    assert list(invoice.collect_events()) == []


def test_a_draft_is_updated_not_amended() -> None:
    invoice = Invoice.create(
        InvoiceDraft(
            account_id=uuid4(),
            livemode=False,
            document_type="invoice",
            currency="NGN",
            customer={"name": "Dana K. Adrian"},
            items=[SETUP],
            issue_date=date(2026, 4, 15),
        ),
        view_token="token",
    )

    assert not invoice.amends({"items": [DOMAINS]})
    with pytest.raises(InvalidStateError) as refused:
        _amend(invoice, {"items": [DOMAINS]})
    assert "is not amended but updated" in str(refused.value)


def test_an_issued_invoice_is_amended_when_a_change_reaches_past_an_update() -> None:
    invoice = _open_invoice()

    assert not invoice.amends({"note": "Thanks", "due_date": date(2026, 5, 1)})
    assert invoice.amends({"note": "Thanks", "items": [DOMAINS]})
    assert EDITABLE_ONCE_ISSUED < AMENDABLE


def test_a_void_invoice_cannot_be_amended() -> None:
    invoice = _open_invoice()
    invoice.void(reason="issued in error", voided_at=NOW)

    with pytest.raises(InvalidStateError, match="Cannot amend an invoice that is void"):
        _amend(invoice, {"items": [DOMAINS]})


def test_amended_figures_are_checked_like_a_drafts() -> None:
    invoice = _open_invoice()

    with pytest.raises(InvalidInvoiceError) as refused:
        _amend(invoice, {"items": []})
    assert refused.value.field == "items"

    with pytest.raises(InvalidInvoiceError, match="to cancel it, void it"):
        _amend(invoice, {"items": [SETUP | {"unit_price": 0}]})
    assert invoice.items == [SETUP]


def test_an_amended_due_date_moves_the_invoice_in_or_out_of_overdue() -> None:
    invoice = _open_invoice(due_date=date(2026, 4, 30))
    today = date(2026, 5, 10)
    assert is_overdue(invoice.status, invoice.due_date, today)

    _amend(invoice, {"items": [DOMAINS], "due_date": date(2026, 5, 31)})

    assert not is_overdue(invoice.status, invoice.due_date, today)
    assert is_overdue(invoice.status, invoice.due_date, date(2026, 6, 1))
