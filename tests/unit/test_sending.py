"""Sending and reminders in the domain: each channel's outcome recorded once, reminders only
for invoices still owed, the schedule's latest day, and what the customer's messages say."""

from __future__ import annotations

import email.policy
from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes
from typing import Any
from uuid import uuid4

import pytest

from risiti.domain.account import Account
from risiti.domain.errors import InvalidFieldError, NotRemindableError, SendSettledError
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.domain.reminders import latest_due_reminder
from risiti.presentation.documents import invoice_record
from risiti.presentation.invoice_messages import invoice_email, invoice_notice, invoice_text
from risiti.presentation.public_events import invoice_event_types

NOW = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)
DUE = date(2026, 4, 30)


def _open_invoice(**customer: Any) -> Invoice:
    draft = InvoiceDraft(
        account_id=uuid4(),
        livemode=False,
        document_type="invoice",
        currency="NGN",
        customer={"name": "AfriTech Solutions", "email": "billing@afritech.test"} | customer,
        items=[{"description": "Server migration", "quantity": Decimal(1), "unit_price": 250000}],
        issue_date=date(2026, 4, 15),
        due_date=DUE,
    )
    invoice = Invoice.create(draft, view_token="tok")
    invoice.finalize("INV-2026-0001", NOW)
    return invoice


def test_a_sent_channel_is_recorded_once_and_fires_invoice_sent() -> None:
    invoice = _open_invoice()
    invoice.request_sending(email="ada@example.com", phone="+2348012345678", requested_at=NOW)

    invoice.mark_sent(request=0, channel="email", sent_at=NOW)
    with pytest.raises(SendSettledError):
        invoice.mark_sent(request=0, channel="email", sent_at=NOW)

    sent = invoice.collect_events()[-1]
    assert invoice_event_types(sent, "open", invoice) == ["invoice.sent"]
    [entry] = invoice_record(invoice)["send_log"]
    assert entry["status"] == "requested"  # the text message is still to go
    assert [(d["channel"], d["status"]) for d in entry["deliveries"]] == [
        ("email", "sent"),
        ("sms", "requested"),
    ]


def test_a_request_is_failed_once_every_channel_is_settled_and_one_failed() -> None:
    invoice = _open_invoice()
    invoice.request_sending(email="ada@example.com", phone="+2348012345678", requested_at=NOW)

    invoice.mark_sent(request=0, channel="email", sent_at=NOW)
    invoice.mark_send_failed(request=0, channel="sms", error="gateway said 400", failed_at=NOW)

    [entry] = invoice_record(invoice)["send_log"]
    assert entry["status"] == "failed"
    assert entry["deliveries"][1]["error"] == "gateway said 400"
    assert invoice_event_types(invoice.collect_events()[-1], "open", invoice) == []


def test_an_outcome_for_a_channel_never_requested_is_refused() -> None:
    invoice = _open_invoice()
    invoice.request_sending(email="ada@example.com", phone=None, requested_at=NOW)

    with pytest.raises(SendSettledError):
        invoice.mark_sent(request=0, channel="sms", sent_at=NOW)
    with pytest.raises(SendSettledError):
        invoice.mark_sent(request=1, channel="email", sent_at=NOW)


def test_a_reminder_goes_to_the_customers_email_and_phone() -> None:
    invoice = _open_invoice(phone="+2348012345678")

    invoice.request_reminder(reminder_days=-3, requested_at=NOW)

    [entry] = invoice_record(invoice)["send_log"]
    assert entry["reminder_days"] == -3
    assert [(d["channel"], d["to"]) for d in entry["deliveries"]] == [
        ("email", "billing@afritech.test"),
        ("sms", "+2348012345678"),
    ]


def test_no_reminder_for_a_paid_invoice_or_a_customer_without_address() -> None:
    paid = _open_invoice()
    paid.mark_paid(payment_id=uuid4(), method="cash", reference=None, paid_at=NOW)
    with pytest.raises(NotRemindableError):
        paid.request_reminder(reminder_days=0, requested_at=NOW)
    with pytest.raises(NotRemindableError):
        _open_invoice(email=None).request_reminder(reminder_days=0, requested_at=NOW)


def test_a_reminder_asked_for_before_payment_is_cancelled_after_it() -> None:
    invoice = _open_invoice()
    invoice.request_reminder(reminder_days=0, requested_at=NOW)
    invoice.request_sending(email="ada@example.com", phone=None, requested_at=NOW)

    invoice.mark_paid(payment_id=uuid4(), method="cash", reference=None, paid_at=NOW)

    assert invoice.why_not_send(0) == "Reminder not sent: the invoice is paid."
    assert invoice.why_not_send(1) is None  # a paid invoice may still be sent (as a record)


def test_outcomes_survive_a_replay() -> None:
    invoice = _open_invoice()
    invoice.request_reminder(reminder_days=7, requested_at=NOW)
    invoice.cancel_sending(request=0, channel="email", reason="void", cancelled_at=NOW)
    events = invoice.collect_events()

    replayed = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)

    assert isinstance(replayed, Invoice)
    assert replayed.send_requests == invoice.send_requests
    assert invoice_record(replayed)["send_log"][0]["status"] == "cancelled"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 4, 26), None),  # before the first day of the schedule
        (date(2026, 4, 27), -3),
        (date(2026, 4, 30), 0),
        (date(2026, 5, 6), 0),
        (date(2026, 5, 7), 7),
        (date(2026, 6, 30), 7),  # after an outage: the latest day only
    ],
)
def test_latest_due_reminder(as_of: date, expected: int | None) -> None:
    assert (
        latest_due_reminder([-3, 0, 7], due_date=DUE, issue_date=date(2026, 4, 1), as_of=as_of)
        == expected
    )


def test_a_day_before_the_invoice_was_issued_never_comes() -> None:
    due = latest_due_reminder([-7], due_date=DUE, issue_date=date(2026, 4, 28), as_of=DUE)
    assert due is None


def test_a_schedule_is_kept_in_order_without_repeats_and_within_a_year() -> None:
    account = Account.open("Ada's Shop")
    account.schedule_reminders([7, -3, 0, 7])
    assert account.reminder_days == [-3, 0, 7]
    with pytest.raises(InvalidFieldError):
        account.schedule_reminders([400])
    with pytest.raises(InvalidFieldError):
        account.schedule_reminders(list(range(11)))


def test_the_email_shows_the_business_amount_due_date_and_link_with_attachments() -> None:
    invoice = _open_invoice()
    notice = invoice_notice(
        invoice,
        business_name="Ada's Shop",
        base_url="https://pay.test",
        reminder=False,
        today=NOW.date(),
    )

    message = invoice_email(
        notice,
        sender="invoices@risiti.test",
        to="billing@afritech.test",
        attachments=[("INV-2026-0001.pdf", "application/pdf", b"%PDF-1.7")],
    )
    parsed = message_from_bytes(message.as_bytes(), policy=email.policy.default)

    assert parsed["Subject"] == "Invoice INV-2026-0001 from Ada's Shop"
    assert parsed["From"] == "Ada's Shop <invoices@risiti.test>"
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Amount due: ₦2,500.00" in text
    assert "Due date: 30 April 2026" in text
    assert "https://pay.test/i/tok" in text
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert 'href="https://pay.test/i/tok"' in html
    [pdf] = list(parsed.iter_attachments())
    assert (pdf.get_filename(), pdf.get_content_type()) == ("INV-2026-0001.pdf", "application/pdf")
    assert pdf.get_content() == b"%PDF-1.7"


@pytest.mark.parametrize(
    ("today", "standing"),
    [
        (date(2026, 4, 27), "due in 3 days"),
        (date(2026, 4, 29), "due tomorrow"),
        (DUE, "due today"),
        (date(2026, 5, 7), "7 days overdue"),
    ],
)
def test_a_reminder_says_where_the_invoice_stands(today: date, standing: str) -> None:
    notice = invoice_notice(
        _open_invoice(),
        business_name="Ada's Shop",
        base_url="https://pay.test",
        reminder=True,
        today=today,
    )

    assert invoice_text(notice) == (
        f"Reminder from Ada's Shop: Invoice INV-2026-0001 (₦2,500.00) is {standing}. "
        "View: https://pay.test/i/tok"
    )
    assert standing in invoice_email(notice, sender="a@b.test", to="c@d.test")["Subject"]
