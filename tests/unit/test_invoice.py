"""The Invoice aggregate's rules, without any I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from risiti.domain.errors import (
    InvalidInvoiceError,
    InvalidStateError,
    PartialPaymentNotAllowedError,
    PaymentExceedsBalanceError,
)
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.domain.numbering import format_document_number

NOW = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)


def _draft(**changes: Any) -> InvoiceDraft:
    fields: dict[str, Any] = {
        "account_id": uuid4(),
        "livemode": False,
        "document_type": "invoice",
        "currency": "NGN",
        "customer": {"name": "AfriTech Solutions"},
        "items": [
            {"description": "Server Migration setup", "quantity": Decimal(1), "unit_price": 250000}
        ],
        "issue_date": date(2026, 4, 15),
    }
    return InvoiceDraft(**(fields | changes))


def _open_invoice(**changes: Any) -> Invoice:
    invoice = Invoice.create(_draft(**changes), view_token="token")
    invoice.finalize(document_number="INV-2026-0001", finalized_at=NOW)
    return invoice


def _pay(invoice: Invoice, amount: int) -> None:
    invoice.record_payment(
        payment_id=uuid4(), amount=amount, method="cash", reference=None, paid_at=NOW
    )


def test_new_invoice_is_a_draft_without_a_number() -> None:
    invoice = Invoice.create(_draft(), view_token="token")

    assert invoice.status == "draft"
    assert invoice.document_number is None
    assert invoice.amount_due == 250000


def test_finalizing_issues_the_invoice_under_its_number() -> None:
    invoice = _open_invoice()

    assert (invoice.status, invoice.document_number) == ("open", "INV-2026-0001")


def test_finalizing_twice_is_an_invalid_state() -> None:
    invoice = _open_invoice()

    with pytest.raises(InvalidStateError) as refused:
        invoice.finalize(document_number="INV-2026-0002", finalized_at=NOW)
    assert refused.value.current == "open"


def test_full_payment_makes_it_paid() -> None:
    invoice = _open_invoice()
    _pay(invoice, 250000)

    assert (invoice.status, invoice.amount_due) == ("paid", 0)


def test_partial_payment_leaves_balance_due() -> None:
    invoice = _open_invoice(accept_partial_payments=True)
    _pay(invoice, 100000)

    assert (invoice.status, invoice.amount_due) == ("partially_paid", 150000)


def test_a_partial_payment_the_business_records_is_recorded_though_not_offered() -> None:
    invoice = _open_invoice()  # accept_partial_payments is false by default
    _pay(invoice, 100000)

    assert (invoice.status, invoice.amount_due) == ("partially_paid", 150000)


def test_the_customer_is_offered_part_payment_only_where_the_invoice_accepts_it() -> None:
    whole, partial = _open_invoice(), _open_invoice(accept_partial_payments=True)

    with pytest.raises(PartialPaymentNotAllowedError):
        whole.check_customer_payment(100000)
    whole.check_customer_payment(250000)
    partial.check_customer_payment(100000)
    assert (whole.offers_partial_payment, partial.offers_partial_payment) == (False, True)


def test_payment_never_exceeds_the_amount_due() -> None:
    invoice = _open_invoice(accept_partial_payments=True)
    _pay(invoice, 200000)

    with pytest.raises(PaymentExceedsBalanceError) as refused:
        _pay(invoice, 50001)
    assert refused.value.amount_due == 50000


def test_paid_invoice_takes_no_more_payments() -> None:
    invoice = _open_invoice()
    _pay(invoice, 250000)

    with pytest.raises(InvalidStateError):
        _pay(invoice, 1)


def test_draft_takes_no_payment() -> None:
    with pytest.raises(InvalidStateError):
        _pay(Invoice.create(_draft(), view_token="token"), 250000)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"items": []}, "items"),
        ({"currency": "ZZZ"}, "currency"),
        ({"customer": {"name": " "}}, "customer.name"),
        ({"document_type": "quote"}, "type"),
        ({"due_date": date(2026, 1, 1)}, "due_date"),
    ],
)
def test_invalid_drafts_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInvoiceError) as refused:
        Invoice.create(_draft(**changes), view_token="token")
    assert refused.value.field == field


def test_an_invoice_is_priced_again_only_when_its_lines_change() -> None:
    invoice = Invoice.create(_draft(), view_token="token")
    priced = invoice.totals

    invoice.update({"note": "Thanks", "reference": "PO-7"})
    assert invoice.totals is priced

    invoice.update({"discount": {"type": "amount", "value": 50000}})
    assert invoice.totals is not priced
    assert invoice.amount_due == 200000


def test_replaying_the_events_gives_the_same_invoice() -> None:
    invoice = _open_invoice(accept_partial_payments=True)
    _pay(invoice, 100000)
    events = invoice.collect_events()

    replayed: Any = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)

    assert vars(replayed) == vars(invoice)


def test_document_numbers_have_four_digits_at_least() -> None:
    assert format_document_number("invoice", 2026, 1) == "INV-2026-0001"
    assert format_document_number("receipt", 2026, 12345) == "RCT-2026-12345"
