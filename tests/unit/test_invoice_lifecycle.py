"""The Invoice aggregate's lifecycle (DESIGN.md §4): every transition, allowed or refused,
and the rules each command keeps, without any I/O."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from risiti.domain.errors import (
    InstallmentLimitError,
    InvalidInvoiceError,
    InvalidStateError,
    PartialPaymentNotAllowedError,
    PaymentExceedsBalanceError,
)
from risiti.domain.invoice import (
    ALLOWED_ACTIONS,
    DRAFT_FIELDS,
    EDITABLE_ONCE_ISSUED,
    Invoice,
    InvoiceDraft,
)

NOW = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)
TOTAL = 250000

# The spec (DESIGN.md §4), written out by hand so that a change to ALLOWED_ACTIONS has to be
# made on purpose in both places.
SPEC_ALLOWED: dict[str, frozenset[str]] = {
    "draft": frozenset({"update", "delete", "finalize", "void"}),
    "open": frozenset({"update", "send", "record_payment", "mark_paid", "void"}),
    "partially_paid": frozenset({"update", "send", "record_payment", "mark_paid", "mark_unpaid"}),
    "paid": frozenset({"update", "send", "mark_unpaid"}),
    "void": frozenset(),
    "deleted": frozenset(),
}
STATUSES = tuple(SPEC_ALLOWED)
ACTIONS = (
    "update",
    "delete",
    "finalize",
    "send",
    "record_payment",
    "mark_paid",
    "mark_unpaid",
    "void",
)

# What each allowed transition leads to: (status, amount_paid) afterwards. The invoices come
# from `_invoice_in`: partially_paid has 100000 of 250000 paid, and `_act` pays 50000.
EXPECTED_AFTER: dict[tuple[str, str], tuple[str, int]] = {
    ("draft", "update"): ("draft", 0),
    ("draft", "delete"): ("deleted", 0),
    ("draft", "finalize"): ("open", 0),
    ("draft", "void"): ("void", 0),
    ("open", "update"): ("open", 0),
    ("open", "send"): ("open", 0),
    ("open", "record_payment"): ("partially_paid", 50000),
    ("open", "mark_paid"): ("paid", TOTAL),
    ("open", "void"): ("void", 0),
    ("partially_paid", "update"): ("partially_paid", 100000),
    ("partially_paid", "send"): ("partially_paid", 100000),
    ("partially_paid", "record_payment"): ("partially_paid", 150000),
    ("partially_paid", "mark_paid"): ("paid", TOTAL),
    ("partially_paid", "mark_unpaid"): ("open", 0),
    ("paid", "update"): ("paid", TOTAL),
    ("paid", "send"): ("paid", TOTAL),
    ("paid", "mark_unpaid"): ("open", 0),
}


def _draft(**changes: Any) -> InvoiceDraft:
    fields: dict[str, Any] = {
        "account_id": uuid4(),
        "livemode": False,
        "document_type": "invoice",
        "currency": "NGN",
        "customer": {"name": "AfriTech Solutions", "email": "billing@afritech.example"},
        "items": [
            {"description": "Server Migration setup", "quantity": Decimal(1), "unit_price": TOTAL}
        ],
        "issue_date": date(2026, 4, 15),
    }
    return InvoiceDraft(**(fields | changes))


def _new(**changes: Any) -> Invoice:
    return Invoice.create(_draft(**changes), view_token="token")


def _finalize(invoice: Invoice) -> None:
    invoice.finalize(document_number="INV-2026-0001", finalized_at=NOW)


def _open_invoice(**changes: Any) -> Invoice:
    invoice = _new(**changes)
    _finalize(invoice)
    return invoice


def _pay(invoice: Invoice, amount: int) -> None:
    invoice.record_payment(
        payment_id=uuid4(), amount=amount, method="bank_transfer", reference=None, paid_at=NOW
    )


def _mark_paid(invoice: Invoice) -> None:
    invoice.mark_paid(payment_id=uuid4(), method="cash", reference="till 3", paid_at=NOW)


def _mark_unpaid(invoice: Invoice) -> None:
    invoice.mark_unpaid(reason="transfer bounced", reversed_at=NOW)


def _void(invoice: Invoice) -> None:
    invoice.void(reason="issued in error", voided_at=NOW)


def _send(
    invoice: Invoice, email: str | None = "ada@example.com", phone: str | None = None
) -> None:
    invoice.request_sending(email=email, phone=phone, requested_at=NOW)


def _invoice_in(status: str) -> Invoice:
    """An invoice (accepting partial payments) brought to `status` through its commands."""
    invoice = _new(accept_partial_payments=True)
    if status == "deleted":
        invoice.delete()
    elif status == "void":
        _void(invoice)
    elif status != "draft":
        _finalize(invoice)
        if status == "partially_paid":
            _pay(invoice, 100000)
        elif status == "paid":
            _pay(invoice, TOTAL)
    assert invoice.status == status
    return invoice


_ACTIONS: dict[str, Callable[[Invoice], None]] = {
    "update": lambda invoice: invoice.update({"note": "Thank you for your business."}),
    "delete": lambda invoice: invoice.delete(),
    "finalize": _finalize,
    "send": _send,
    "record_payment": lambda invoice: _pay(invoice, 50000),
    "mark_paid": _mark_paid,
    "mark_unpaid": _mark_unpaid,
    "void": _void,
}


def _act(invoice: Invoice, action: str) -> None:
    _ACTIONS[action](invoice)


ALLOWED_PAIRS = [(s, a) for s in STATUSES for a in ACTIONS if a in SPEC_ALLOWED[s]]
REFUSED_PAIRS = [(s, a) for s in STATUSES for a in ACTIONS if a not in SPEC_ALLOWED[s]]


# --- The transition table -------------------------------------------------------------------


def test_allowed_actions_match_the_spec() -> None:
    assert {status: frozenset(allowed) for status, allowed in ALLOWED_ACTIONS.items()} == (
        SPEC_ALLOWED
    )


def test_every_action_of_the_table_is_exercised() -> None:
    assert set().union(*ALLOWED_ACTIONS.values()) <= set(ACTIONS) == set(_ACTIONS)


def test_every_allowed_transition_has_an_expected_outcome() -> None:
    assert set(EXPECTED_AFTER) == set(ALLOWED_PAIRS)
    assert len(ALLOWED_PAIRS) + len(REFUSED_PAIRS) == len(STATUSES) * len(ACTIONS)


@pytest.mark.parametrize(("status", "action"), ALLOWED_PAIRS)
def test_allowed_transition_succeeds(status: str, action: str) -> None:
    invoice = _invoice_in(status)

    _act(invoice, action)

    expected_status, expected_paid = EXPECTED_AFTER[(status, action)]
    assert (invoice.status, invoice.amount_paid) == (expected_status, expected_paid)
    assert invoice.amount_due == invoice.totals.total - expected_paid
    if expected_status == "paid":
        assert invoice.amount_due == 0


@pytest.mark.parametrize(("status", "action"), REFUSED_PAIRS)
def test_refused_transition_names_the_status_and_what_it_allows(status: str, action: str) -> None:
    invoice = _invoice_in(status)
    before = copy.deepcopy(vars(invoice))

    with pytest.raises(InvalidStateError) as refused:
        _act(invoice, action)

    assert refused.value.current == status
    assert refused.value.allowed == ALLOWED_ACTIONS[status]
    assert set(refused.value.allowed) == SPEC_ALLOWED[status]
    assert vars(invoice) == before


def test_refusal_message_says_what_the_invoice_can_do_instead() -> None:
    invoice = _invoice_in("paid")

    with pytest.raises(InvalidStateError) as refused:
        _void(invoice)

    assert str(refused.value) == (
        "Cannot void an invoice that is paid."
        " An invoice that is paid allows only: update, send, mark_unpaid."
    )


def test_refusal_message_of_a_void_invoice_says_nothing_is_possible() -> None:
    with pytest.raises(InvalidStateError) as refused:
        _act(_invoice_in("void"), "update")

    assert str(refused.value) == (
        "Cannot update an invoice that is void. An invoice that is void allows no further action."
    )


@pytest.mark.parametrize(
    ("action", "sentence"),
    [
        ("record_payment", "Cannot record a payment on an invoice that is paid."),
        ("mark_paid", "Cannot mark an invoice that is paid as paid."),
        ("void", "Cannot void an invoice that is paid."),
    ],
)
def test_refusal_message_is_an_english_sentence(action: str, sentence: str) -> None:
    with pytest.raises(InvalidStateError) as refused:
        _act(_invoice_in("paid"), action)

    assert str(refused.value).startswith(sentence + " ")


# --- Updating ---------------------------------------------------------------------------------


def test_editable_fields_once_issued_are_those_that_change_no_figure() -> None:
    assert (
        frozenset({"note", "due_date", "metadata", "reference", "callback_url", "return_url"})
        == EDITABLE_ONCE_ISSUED
    )
    assert EDITABLE_ONCE_ISSUED < DRAFT_FIELDS
    assert not {"account_id", "livemode", "document_type"} & DRAFT_FIELDS


def test_open_invoice_may_change_only_note_due_date_metadata_reference() -> None:
    invoice = _open_invoice()
    new_items = [{"description": "Other", "quantity": Decimal(2), "unit_price": 1000}]

    with pytest.raises(InvalidStateError) as refused:
        invoice.update({"items": new_items, "note": "ignored too"})
    assert refused.value.current == "open"
    assert refused.value.allowed == ALLOWED_ACTIONS["open"]
    assert (invoice.items[0]["unit_price"], invoice.note) == (TOTAL, None)

    invoice.update({"note": "Pay within 30 days."})
    assert invoice.note == "Pay within 30 days."


def test_issued_invoice_may_change_every_editable_field_at_once() -> None:
    invoice = _invoice_in("paid")
    changes: dict[str, Any] = {
        "note": "Paid, thanks.",
        "due_date": date(2026, 5, 15),
        "metadata": {"po": "PO-17"},
        "reference": "REF-9",
    }

    invoice.update(changes)

    assert {name: getattr(invoice, name) for name in changes} == changes
    assert (invoice.status, invoice.amount_due) == ("paid", 0)


@pytest.mark.parametrize("status", ["open", "partially_paid", "paid"])
@pytest.mark.parametrize(
    "changes",
    [
        {"currency": "USD"},
        {"customer": {"name": "Someone Else"}},
        {"discount": {"type": "percentage", "value": Decimal(10)}},
        {"taxes": [{"name": "VAT", "percentage": Decimal("7.5"), "inclusive": False}]},
        {"shipping_fee": 500},
        {"accept_partial_payments": False},
    ],
)
def test_issued_invoice_refuses_changes_to_its_figures(
    status: str, changes: dict[str, Any]
) -> None:
    invoice = _invoice_in(status)
    before = copy.deepcopy(vars(invoice))

    with pytest.raises(InvalidStateError) as refused:
        invoice.update(changes)

    assert refused.value.current == status
    assert vars(invoice) == before


def test_issued_invoice_due_date_still_cannot_precede_its_issue_date() -> None:
    invoice = _open_invoice()

    with pytest.raises(InvalidInvoiceError) as refused:
        invoice.update({"due_date": date(2026, 4, 1)})

    assert refused.value.field == "due_date"
    assert invoice.due_date is None


def test_draft_update_reprices_the_invoice() -> None:
    invoice = _new()

    invoice.update(
        {
            "items": [
                {"description": "Consulting", "quantity": Decimal("2.5"), "unit_price": 40000},
                {"description": "Travel", "quantity": Decimal(1), "unit_price": 15000},
            ],
            "discount": {"type": "amount", "value": 5000},
            "shipping_fee": 2000,
        }
    )

    totals = invoice.totals
    assert (totals.subtotal, totals.discount_total, totals.shipping_fee) == (115000, 5000, 2000)
    assert totals.total == 112000
    assert invoice.amount_due == 112000
    assert invoice.status == "draft"


def test_draft_update_may_change_the_customer_and_the_currency() -> None:
    invoice = _new()

    invoice.update({"customer": {"name": "Zenith Ltd"}, "currency": "USD"})

    assert (invoice.customer["name"], invoice.currency) == ("Zenith Ltd", "USD")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"items": [{"quantity": Decimal(1), "unit_price": -5}]}, "items.0.unit_price"),
        ({"items": [{"quantity": Decimal(0), "unit_price": 100}]}, "items.0.quantity"),
        ({"items": []}, "items"),
        ({"currency": "ZZZ"}, "currency"),
        ({"customer": {"name": ""}}, "customer.name"),
        ({"discount": {"type": "amount", "value": TOTAL + 1}}, "discount"),
        ({"max_installments": 0}, "max_installments"),
    ],
)
def test_draft_update_with_bad_figures_is_refused_and_changes_nothing(
    changes: dict[str, Any], field: str
) -> None:
    invoice = _new()
    invoice.collect_events()
    before = copy.deepcopy(vars(invoice))

    with pytest.raises(InvalidInvoiceError) as refused:
        invoice.update(changes)

    assert refused.value.field == field
    assert vars(invoice) == before
    assert invoice.collect_events() == []
    assert invoice.totals.total == TOTAL


@pytest.mark.parametrize("name", ["account_id", "livemode", "document_type"])
def test_draft_update_cannot_change_whose_or_what_it_is(name: str) -> None:
    invoice = _new()

    with pytest.raises(InvalidStateError) as refused:
        invoice.update({name: "changed"})

    assert refused.value.current == "draft"
    assert name in str(refused.value)


# --- Finalizing, deleting, voiding ------------------------------------------------------------


def test_finalizing_records_the_number_and_time() -> None:
    invoice = _open_invoice()

    assert (invoice.status, invoice.document_number, invoice.finalized_at) == (
        "open",
        "INV-2026-0001",
        NOW,
    )


def test_a_zero_total_invoice_is_paid_as_soon_as_it_is_finalized() -> None:
    invoice = _open_invoice(
        items=[{"description": "Free sample", "quantity": Decimal(1), "unit_price": 0}]
    )

    assert (invoice.status, invoice.amount_due, invoice.payments) == ("paid", 0, [])


def test_deleted_draft_keeps_its_fields_but_allows_nothing() -> None:
    invoice = _new()

    invoice.delete()

    assert invoice.status == "deleted"
    assert invoice.document_number is None
    assert invoice.totals.total == TOTAL


def test_void_records_when_and_why() -> None:
    invoice = _open_invoice()

    _void(invoice)

    assert (invoice.status, invoice.voided_at, invoice.void_reason) == (
        "void",
        NOW,
        "issued in error",
    )
    assert invoice.document_number == "INV-2026-0001"


def test_partially_paid_invoice_must_be_marked_unpaid_before_voiding() -> None:
    invoice = _invoice_in("partially_paid")

    with pytest.raises(InvalidStateError):
        _void(invoice)

    _mark_unpaid(invoice)
    _void(invoice)
    assert invoice.status == "void"


# --- Sending ----------------------------------------------------------------------------------


def test_send_without_email_or_phone_is_refused() -> None:
    invoice = _open_invoice()

    with pytest.raises(InvalidInvoiceError) as refused:
        _send(invoice, email=None, phone=None)

    assert refused.value.field == "email"
    assert invoice.send_requests == []


def test_send_with_an_empty_email_and_no_phone_is_refused() -> None:
    with pytest.raises(InvalidInvoiceError):
        _send(_open_invoice(), email="", phone=None)


@pytest.mark.parametrize(
    ("email", "phone"),
    [("ada@example.com", None), (None, "+2348012345678"), ("ada@example.com", "+2348012345678")],
)
def test_send_records_each_request(email: str | None, phone: str | None) -> None:
    invoice = _open_invoice()

    _send(invoice, email=email, phone=phone)
    _send(invoice, email=email, phone=phone)

    asked = [
        {key: request[key] for key in ("email", "phone", "requested_at", "reminder_days")}
        for request in invoice.send_requests
    ]
    assert (
        asked == [{"email": email, "phone": phone, "requested_at": NOW, "reminder_days": None}] * 2
    )
    channels = {"email": email, "sms": phone}
    assert invoice.send_requests[0]["deliveries"] == {
        channel: {"to": to, "status": "requested", "sent_at": None, "error": None}
        for channel, to in channels.items()
        if to
    }
    assert invoice.status == "open"


def test_send_of_a_draft_is_refused_before_checking_the_recipient() -> None:
    with pytest.raises(InvalidStateError) as refused:
        _send(_new(), email=None, phone=None)

    assert refused.value.current == "draft"


# --- Payments ---------------------------------------------------------------------------------


def test_partial_payment_leaves_balance_due() -> None:
    invoice = _open_invoice(accept_partial_payments=True)

    _pay(invoice, 100000)

    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == (
        "partially_paid",
        100000,
        150000,
    )
    assert invoice.installments_made == 1


def test_payments_that_add_up_to_the_total_make_it_paid() -> None:
    invoice = _open_invoice(accept_partial_payments=True)

    for amount in (100000, 100000, 50000):
        _pay(invoice, amount)

    assert (invoice.status, invoice.amount_due, invoice.installments_made) == ("paid", 0, 3)
    assert [payment["amount"] for payment in invoice.payments] == [100000, 100000, 50000]


@pytest.mark.parametrize("amount", [0, -1])
def test_payment_must_be_positive(amount: int) -> None:
    invoice = _open_invoice(accept_partial_payments=True)

    with pytest.raises(InvalidInvoiceError) as refused:
        _pay(invoice, amount)

    assert refused.value.field == "amount"
    assert invoice.payments == []


def test_a_partial_payment_is_recorded_without_partial_payments_the_ledger_records_facts() -> None:
    invoice = _open_invoice()

    _pay(invoice, 100000)

    assert (invoice.status, invoice.amount_due) == ("partially_paid", 150000)


def test_the_customer_may_not_pay_part_of_an_invoice_without_partial_payments() -> None:
    invoice = _open_invoice()

    with pytest.raises(PartialPaymentNotAllowedError) as refused:
        invoice.check_customer_payment(100000)

    assert refused.value.field == "amount"
    assert not invoice.offers_partial_payment
    invoice.check_customer_payment(TOTAL)


def test_the_customer_may_not_pay_more_than_is_due_nor_on_a_paid_invoice() -> None:
    invoice = _open_invoice(accept_partial_payments=True)

    with pytest.raises(PaymentExceedsBalanceError):
        invoice.check_customer_payment(TOTAL + 1)
    _pay(invoice, TOTAL)
    with pytest.raises(InvalidStateError):
        invoice.check_customer_payment(1)


def test_the_customers_last_allowed_installment_must_clear_the_balance() -> None:
    invoice = _open_invoice(accept_partial_payments=True, max_installments=2)
    assert invoice.offers_partial_payment
    _pay(invoice, 100000)

    with pytest.raises(InstallmentLimitError) as refused:
        invoice.check_customer_payment(50000)
    assert refused.value.field == "amount"
    assert not invoice.offers_partial_payment
    invoice.check_customer_payment(150000)


def test_max_installments_of_one_means_the_customer_pays_in_full() -> None:
    invoice = _open_invoice(accept_partial_payments=True, max_installments=1)

    with pytest.raises(InstallmentLimitError):
        invoice.check_customer_payment(100000)
    invoice.check_customer_payment(TOTAL)


def test_the_business_records_an_installment_past_max_installments_as_it_was_paid() -> None:
    invoice = _open_invoice(accept_partial_payments=True, max_installments=2)
    _pay(invoice, 100000)

    _pay(invoice, 50000)

    assert (invoice.status, invoice.amount_due, invoice.installments_made) == (
        "partially_paid",
        100000,
        2,
    )


def test_reversed_payments_do_not_count_as_installments() -> None:
    invoice = _open_invoice(accept_partial_payments=True, max_installments=2)
    _pay(invoice, 100000)
    _mark_unpaid(invoice)

    invoice.check_customer_payment(100000)
    _pay(invoice, 100000)

    assert (invoice.status, invoice.installments_made, len(invoice.payments)) == (
        "partially_paid",
        1,
        2,
    )


def test_mark_paid_records_the_balance_even_without_partial_payments() -> None:
    invoice = _open_invoice()

    _mark_paid(invoice)

    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("paid", TOTAL, 0)
    [payment] = invoice.payments
    assert (payment["amount"], payment["method"], payment["reference"]) == (TOTAL, "cash", "till 3")


def test_mark_paid_after_a_partial_payment_records_only_the_remaining_balance() -> None:
    invoice = _open_invoice(accept_partial_payments=True, max_installments=2)
    _pay(invoice, 100000)

    _mark_paid(invoice)

    assert [payment["amount"] for payment in invoice.payments] == [100000, 150000]
    assert (invoice.status, invoice.amount_due) == ("paid", 0)


def test_mark_unpaid_reverses_every_payment_and_allows_void() -> None:
    invoice = _open_invoice(accept_partial_payments=True)
    _pay(invoice, 100000)
    _pay(invoice, 150000)
    assert invoice.status == "paid"

    _mark_unpaid(invoice)

    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("open", 0, TOTAL)
    assert invoice.installments_made == 0
    assert len(invoice.payments) == 2
    assert all(
        (payment["reversed_at"], payment["reversal_reason"]) == (NOW, "transfer bounced")
        for payment in invoice.payments
    )

    _void(invoice)
    assert invoice.status == "void"


def test_mark_unpaid_leaves_earlier_reversals_as_they_were() -> None:
    later = datetime(2026, 5, 1, tzinfo=UTC)
    invoice = _open_invoice(accept_partial_payments=True)
    _pay(invoice, 100000)
    _mark_unpaid(invoice)
    _pay(invoice, TOTAL)

    invoice.mark_unpaid(reason="second bounce", reversed_at=later)

    assert [(p["reversed_at"], p["reversal_reason"]) for p in invoice.payments] == [
        (NOW, "transfer bounced"),
        (later, "second bounce"),
    ]


# --- Receipts and taxes -----------------------------------------------------------------------


def test_receipt_is_finalized_then_marked_paid() -> None:
    receipt = _new(document_type="receipt")
    assert receipt.document_type == "receipt"

    receipt.finalize(document_number="RCT-2026-0001", finalized_at=NOW)
    assert receipt.status == "open"
    _mark_paid(receipt)

    assert (receipt.status, receipt.amount_due, receipt.document_number) == (
        "paid",
        0,
        "RCT-2026-0001",
    )


def test_a_receipt_is_issued_paid_by_the_method_given() -> None:
    receipt = _new(document_type="receipt")
    receipt.collect_events()

    receipt.issue(document_number="RCT-2026-0001", issued_at=NOW, paid_by="pos")

    events = receipt.collect_events()
    assert [type(e) for e in events] == [Invoice.Finalized, Invoice.PaymentRecorded]
    assert (receipt.status, receipt.amount_due, receipt.amount_paid) == ("paid", 0, TOTAL)
    [payment] = receipt.payments
    assert (payment["method"], payment["amount"], payment["paid_at"]) == ("pos", TOTAL, NOW)


def test_an_invoice_is_issued_open() -> None:
    invoice = _new()
    invoice.collect_events()

    invoice.issue(document_number="INV-2026-0001", issued_at=NOW)

    assert [type(e) for e in invoice.collect_events()] == [Invoice.Finalized]
    assert (invoice.status, invoice.payments) == ("open", [])


def test_an_invoice_issued_paid_is_finalized_then_paid_by_the_method_given() -> None:
    invoice = _new()
    invoice.collect_events()

    invoice.issue(document_number="INV-2026-0001", issued_at=NOW, paid_by="bank_transfer")

    events = invoice.collect_events()
    assert [type(e) for e in events] == [Invoice.Finalized, Invoice.PaymentRecorded]
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("paid", 0, TOTAL)
    assert invoice.payments[0]["method"] == "bank_transfer"


def test_a_receipt_is_issued_on_creation_and_an_invoice_is_not() -> None:
    assert _new(document_type="receipt").issued_on_creation
    assert not _new().issued_on_creation


def test_receipt_refusal_speaks_of_a_receipt() -> None:
    receipt = _new(document_type="receipt")

    with pytest.raises(InvalidStateError, match="a receipt that is draft"):
        _mark_paid(receipt)


def test_invoice_level_taxes_apply_to_every_line() -> None:
    invoice = _new(
        items=[
            {"description": "Setup", "quantity": Decimal(1), "unit_price": TOTAL},
            {"description": "Licence", "quantity": Decimal(2), "unit_price": 1000},
        ],
        taxes=[{"name": "VAT", "percentage": Decimal("7.5"), "inclusive": False}],
    )

    totals = invoice.totals

    assert [line.exclusive_tax for line in totals.lines] == [18750, 150]
    assert (totals.subtotal, totals.tax_total, totals.total) == (252000, 18900, 270900)


def test_invoice_level_taxes_add_to_a_line_s_own_taxes() -> None:
    invoice = _new(
        items=[
            {
                "description": "Setup",
                "quantity": Decimal(1),
                "unit_price": 100000,
                "taxes": [{"name": "Levy", "percentage": Decimal(1)}],
            },
            {"description": "Support", "quantity": Decimal(1), "unit_price": 100000},
        ],
        taxes=[{"name": "VAT", "percentage": Decimal("7.5"), "inclusive": False}],
    )

    assert [line.exclusive_tax for line in invoice.totals.lines] == [8500, 7500]
    assert invoice.totals.total == 216000


def test_invoice_level_inclusive_tax_is_contained_in_the_price() -> None:
    invoice = _new(
        items=[{"description": "Setup", "quantity": Decimal(1), "unit_price": 107500}],
        taxes=[{"name": "VAT", "percentage": Decimal("7.5"), "inclusive": True}],
    )

    assert (invoice.totals.tax_inclusive_total, invoice.totals.total) == (7500, 107500)


def test_invoice_level_taxes_with_a_bad_rate_are_refused() -> None:
    with pytest.raises(InvalidInvoiceError):
        _new(taxes=[{"name": "VAT", "percentage": Decimal(101)}])


# --- Replay -----------------------------------------------------------------------------------


def _replay(invoice: Invoice) -> Any:
    replayed: Any = None
    for domain_event in invoice.collect_events():
        replayed = domain_event.mutate(replayed)
    return replayed


@pytest.mark.parametrize("status", STATUSES)
def test_replay_of_each_status_equals_live(status: str) -> None:
    invoice = _invoice_in(status)

    replayed = _replay(invoice)

    assert vars(replayed) == vars(invoice)


def test_replay_equals_live() -> None:
    invoice = _new(
        accept_partial_payments=True,
        taxes=[{"name": "VAT", "percentage": Decimal("7.5"), "inclusive": False}],
    )
    invoice.update({"shipping_fee": 1000, "note": "draft note"})
    _finalize(invoice)
    _send(invoice)
    _pay(invoice, 100000)
    _mark_unpaid(invoice)
    _pay(invoice, 50000)
    invoice.update({"reference": "REF-1"})
    _mark_paid(invoice)

    replayed = _replay(invoice)

    assert (replayed.status, replayed.amount_paid) == (invoice.status, invoice.amount_paid)
    assert replayed.totals == invoice.totals
    assert replayed.payments == invoice.payments
    assert replayed.send_requests == invoice.send_requests
    assert (replayed.note, replayed.reference, replayed.shipping_fee) == (
        "draft note",
        "REF-1",
        1000,
    )
    assert (replayed.version, replayed.id) == (invoice.version, invoice.id)
    assert vars(replayed) == vars(invoice)
