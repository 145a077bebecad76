"""`Invoice.mark_overdue` (DESIGN.md §4, §7): an open or partly paid invoice is marked overdue once
per due date after that date has passed; anything else is refused, which is what makes the
scheduled job safe to repeat."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from risiti.domain.errors import NotOverdueError
from risiti.domain.invoice import Invoice, InvoiceDraft, aging_bucket, is_overdue, is_past_due
from risiti.eventstore.mapper import create_mapper
from risiti.presentation.public_events import invoice_event_types

NOW = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)
ISSUED = date(2026, 3, 1)
DUE = date(2026, 3, 31)
TODAY = date(2026, 4, 15)
TOTAL = 250000


def _invoice(status: str = "open", due_date: date | None = DUE) -> Invoice:
    """An invoice (accepting partial payments) brought to `status` through its commands."""
    invoice = Invoice.create(
        InvoiceDraft(
            account_id=uuid4(),
            livemode=False,
            document_type="invoice",
            currency="NGN",
            customer={"name": "AfriTech Solutions"},
            items=[{"description": "Setup", "quantity": Decimal(1), "unit_price": TOTAL}],
            issue_date=ISSUED,
            due_date=due_date,
            accept_partial_payments=True,
        ),
        view_token="token",
    )
    if status == "void":
        invoice.void(reason=None, voided_at=NOW)
    elif status != "draft":
        invoice.finalize(document_number="INV-2026-0001", finalized_at=NOW)
    amounts = {"partially_paid": 100000, "paid": TOTAL}
    if status in amounts:
        invoice.record_payment(
            payment_id=uuid4(), amount=amounts[status], method="cash", reference=None, paid_at=NOW
        )
    assert invoice.status == status
    return invoice


def _overdue_events(invoice: Invoice) -> list[Any]:
    return [e for e in invoice.collect_events() if isinstance(e, Invoice.Overdue)]


@pytest.mark.parametrize("status", ["open", "partially_paid"])
def test_an_unpaid_invoice_past_its_due_date_is_marked_overdue(status: str) -> None:
    invoice = _invoice(status)
    version = invoice.version

    invoice.mark_overdue(TODAY)

    assert invoice.version == version + 1
    assert invoice.status == status
    assert invoice.overdue_for == DUE
    [event] = _overdue_events(invoice)
    assert (event.as_of, event.due_date) == (TODAY, DUE)


@pytest.mark.parametrize("status", ["draft", "paid", "void"])
def test_an_invoice_that_is_not_open_is_never_marked_overdue(status: str) -> None:
    invoice = _invoice(status)
    invoice.collect_events()

    with pytest.raises(NotOverdueError, match=status):
        invoice.mark_overdue(TODAY)

    assert invoice.collect_events() == []
    assert invoice.overdue_for is None


@pytest.mark.parametrize("as_of", [DUE - timedelta(days=1), DUE])
def test_an_invoice_is_not_overdue_until_the_day_after_its_due_date(as_of: date) -> None:
    invoice = _invoice()
    invoice.collect_events()

    with pytest.raises(NotOverdueError, match="Not past its due date"):
        invoice.mark_overdue(as_of)

    assert invoice.collect_events() == []
    invoice.mark_overdue(DUE + timedelta(days=1))
    assert invoice.overdue_for == DUE


def test_an_invoice_without_a_due_date_is_never_overdue() -> None:
    invoice = _invoice(due_date=None)

    with pytest.raises(NotOverdueError):
        invoice.mark_overdue(TODAY)


def test_an_invoice_already_marked_for_its_due_date_is_refused() -> None:
    invoice = _invoice()
    invoice.mark_overdue(TODAY)
    invoice.collect_events()

    with pytest.raises(NotOverdueError, match="Already marked overdue"):
        invoice.mark_overdue(TODAY + timedelta(days=3))

    assert invoice.collect_events() == []


def test_a_due_date_moved_later_is_marked_again_once_it_has_passed() -> None:
    invoice = _invoice()
    invoice.mark_overdue(TODAY)
    new_due = TODAY + timedelta(days=7)
    invoice.update({"due_date": new_due})

    with pytest.raises(NotOverdueError, match="Not past its due date"):
        invoice.mark_overdue(TODAY)
    invoice.mark_overdue(new_due + timedelta(days=1))

    assert invoice.overdue_for == new_due
    assert [e.due_date for e in _overdue_events(invoice)] == [DUE, new_due]


def test_a_due_date_moved_earlier_is_not_marked_again() -> None:
    invoice = _invoice()
    invoice.mark_overdue(TODAY)
    invoice.update({"due_date": DUE - timedelta(days=5)})

    with pytest.raises(NotOverdueError, match="Already marked overdue"):
        invoice.mark_overdue(TODAY)


def test_a_payment_reversed_after_the_mark_does_not_mark_it_again() -> None:
    invoice = _invoice("partially_paid")
    invoice.mark_overdue(TODAY)
    invoice.mark_unpaid(reason=None, reversed_at=NOW)

    with pytest.raises(NotOverdueError, match="Already marked overdue"):
        invoice.mark_overdue(TODAY)


def test_replay_equals_live() -> None:
    invoice = _invoice("partially_paid")
    invoice.mark_overdue(TODAY)
    invoice.update({"due_date": TODAY + timedelta(days=7)})
    invoice.mark_overdue(TODAY + timedelta(days=8))
    mapper = create_mapper()

    replayed: Any = None
    for domain_event in invoice.collect_events():
        stored = mapper.to_stored_event(domain_event)
        replayed = mapper.to_domain_event(stored).mutate(replayed)

    assert vars(replayed) == vars(invoice)
    assert replayed.overdue_for == TODAY + timedelta(days=7)


def test_the_overdue_event_fires_invoice_overdue() -> None:
    invoice = _invoice()
    invoice.mark_overdue(TODAY)
    [event] = _overdue_events(invoice)

    assert invoice_event_types(event, "open", invoice) == ["invoice.overdue"]


def test_invoice_is_overdue_after_its_due_date_until_paid() -> None:
    assert not is_overdue("open", DUE, DUE)
    assert is_overdue("open", DUE, DUE + timedelta(days=1))
    assert is_overdue("partially_paid", DUE, TODAY)
    for settled in ("paid", "void", "draft", "deleted"):
        assert not is_overdue(settled, DUE, TODAY)


def test_is_overdue_needs_a_due_date() -> None:
    assert not is_overdue("open", None, TODAY)
    assert not is_past_due(None, TODAY)


def test_mark_overdue_follows_is_overdue() -> None:
    for status in ("open", "partially_paid", "paid", "void"):
        invoice = _invoice(status)
        if is_overdue(invoice.status, invoice.due_date, TODAY):
            invoice.mark_overdue(TODAY)
        else:
            with pytest.raises(NotOverdueError):
                invoice.mark_overdue(TODAY)


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "1_30"),
        (30, "1_30"),
        (31, "31_60"),
        (60, "31_60"),
        (61, "61_90"),
        (90, "61_90"),
        (91, "over_90"),
        (400, "over_90"),
    ],
)
def test_aging_counts_days_from_the_first_day_past_due(days_past_due: int, bucket: str) -> None:
    assert aging_bucket(TODAY - timedelta(days=days_past_due), TODAY) == bucket


def test_an_amount_without_a_due_date_is_current() -> None:
    assert aging_bucket(None, TODAY) == "current"
