"""What Invoice.ng's paths mean to an invoice (DESIGN.md §11): a restatement changes only what
differs; "mark as paid" and "mark as not paid" said twice change nothing more; a delete voids
an issued invoice nobody paid, deletes a draft, and is refused once money was received."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from risiti.domain.errors import InvalidStateError
from risiti.domain.invoice import DELETED, OPEN, PAID, VOID, Invoice, InvoiceDraft

NOW = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)
NUMBER = "INV-01"
SETUP = {"description": "Web Development Fee", "quantity": Decimal(1), "unit_price": 15000000}


def _draft() -> Invoice:
    draft = InvoiceDraft(
        account_id=uuid4(),
        livemode=False,
        document_type="invoice",
        currency="NGN",
        customer={"name": "Dana K. Adrian"},
        items=[SETUP],
        issue_date=date(2026, 4, 15),
        requested_number=NUMBER,
        accept_partial_payments=True,
    )
    return Invoice.create(draft, view_token="token")


def _issued() -> Invoice:
    invoice = _draft()
    invoice.finalize(document_number=NUMBER, finalized_at=NOW)
    return invoice


def _pay_in_part(invoice: Invoice) -> None:
    invoice.record_payment(
        payment_id=uuid4(), amount=5000000, method="cash", reference=None, paid_at=NOW
    )


def _settle_as_paid(invoice: Invoice) -> None:
    invoice.settle_as_paid(payment_id=uuid4(), method="other", reference=None, paid_at=NOW)


def test_a_restatement_changes_only_the_fields_that_differ() -> None:
    invoice = _issued()

    changed = invoice.restated({"items": [SETUP], "note": "Thanks", "currency": "NGN"})

    assert changed == {"note": "Thanks"}


def test_an_issued_invoice_restated_under_its_own_number_keeps_it() -> None:
    invoice = _issued()

    assert invoice.restated({"requested_number": NUMBER}) == {}
    assert invoice.restated({"requested_number": "INV-02"}) == {"requested_number": "INV-02"}


def test_settling_as_paid_pays_the_balance_and_again_changes_nothing() -> None:
    invoice = _issued()
    _pay_in_part(invoice)

    _settle_as_paid(invoice)
    invoice.collect_events()
    _settle_as_paid(invoice)

    assert (invoice.status, invoice.amount_due) == (PAID, 0)
    assert invoice.collect_events() == []


def test_settling_as_not_paid_reverses_every_payment_and_with_none_changes_nothing() -> None:
    invoice = _issued()
    _pay_in_part(invoice)

    invoice.settle_as_not_paid(reason=None, reversed_at=NOW)
    invoice.collect_events()
    invoice.settle_as_not_paid(reason=None, reversed_at=NOW)

    assert (invoice.status, invoice.amount_paid) == (OPEN, 0)
    assert invoice.collect_events() == []


def test_removing_an_issued_invoice_nobody_paid_voids_it_under_its_number() -> None:
    invoice = _issued()

    invoice.remove(reason="Deleted", removed_at=NOW)

    assert (invoice.status, invoice.document_number) == (VOID, NUMBER)


def test_removing_a_draft_deletes_it() -> None:
    invoice = _draft()

    invoice.remove(reason=None, removed_at=NOW)

    assert invoice.status == DELETED


def test_removing_an_invoice_with_money_received_says_to_mark_it_not_paid_first() -> None:
    invoice = _issued()
    _pay_in_part(invoice)

    with pytest.raises(InvalidStateError, match="Mark it not paid first") as refused:
        invoice.remove(reason=None, removed_at=NOW)

    assert refused.value.current == "partially_paid"
    invoice.settle_as_not_paid(reason=None, reversed_at=NOW)
    invoice.remove(reason=None, removed_at=NOW)
    assert invoice.status == VOID
