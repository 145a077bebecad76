"""The customer's copy: the state a customer is told, figures that add up to the API's, and the
account details it shows (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from risiti.domain.account import Account
from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.presentation.customer_copy import customer_state, write_customer_copy

TODAY = date(2026, 5, 1)
NOW = datetime(2026, 5, 1, 9, tzinfo=UTC)


def _invoice(currency: str = "NGN", **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "account_id": uuid4(),
        "livemode": False,
        "document_type": "invoice",
        "currency": currency,
        "customer": {"name": "Dana K. Adrian"},
        "items": [
            {"description": "Web Development Fee", "quantity": Decimal(1), "unit_price": 15000000},
            {"description": "Domain", "quantity": Decimal(4), "unit_price": 250000},
        ],
        "issue_date": date(2026, 4, 1),
        "due_date": date(2026, 4, 20),
        "accept_partial_payments": True,
    } | changes
    invoice = Invoice.create(InvoiceDraft(**fields), view_token="tok")
    invoice.finalize(document_number="INV-2026-0001", finalized_at=NOW)
    return invoice


def _pay(invoice: Invoice, amount: int) -> None:
    invoice.record_payment(
        payment_id=uuid4(), amount=amount, method="cash", reference=None, paid_at=NOW
    )


def test_an_open_invoice_is_due_until_its_due_date_and_overdue_after() -> None:
    invoice = _invoice()
    assert customer_state(invoice, date(2026, 4, 20)) == "due"
    assert customer_state(invoice, date(2026, 4, 21)) == "overdue"


def test_partly_paid_paid_and_void_read_as_the_customer_says_them() -> None:
    invoice = _invoice(due_date=None)
    _pay(invoice, 100)
    assert customer_state(invoice, TODAY) == "partly_paid"
    _pay(invoice, invoice.amount_due)
    assert customer_state(invoice, TODAY) == "paid"
    unpaid = _invoice()
    unpaid.void(reason=None, voided_at=NOW)
    assert customer_state(unpaid, TODAY) == "void"


def test_a_void_invoice_owes_nothing_though_its_total_stands() -> None:
    invoice = _invoice()
    invoice.void(reason=None, voided_at=NOW)

    copy = write_customer_copy(invoice, Account.open("Ada's Kitchen"), today=TODAY)

    assert copy.state == "void" and not copy.payable
    assert copy.amount_due_minor == 0
    assert copy.amount_due == "₦0.00"
    assert copy.total == "₦160,000.00"
    assert [(f.label, f.minor) for f in copy.figures if f.label == "Amount due"] == [
        ("Amount due", 0)
    ]


def test_figures_are_the_invoice_totals_to_the_minor_unit() -> None:
    invoice = _invoice(
        discount={"type": "amount", "value": 1001},
        taxes=[{"name": "VAT", "percentage": "7.5"}],
        shipping_fee=150000,
        due_date=None,
    )
    _pay(invoice, 5000000)
    copy = write_customer_copy(invoice, Account.open("Ada's Kitchen"), today=TODAY)
    minor = {figure.label: figure.minor for figure in copy.figures}
    totals = invoice.totals

    assert minor == {
        "Subtotal": totals.subtotal,
        "Discount": -totals.discount_total,
        "Tax": totals.tax_total,
        "Shipping": 150000,
        "Total": totals.total,
        "Paid": -5000000,
        "Amount due": invoice.amount_due,
    }
    assert minor["Subtotal"] + minor["Discount"] + minor["Tax"] + minor["Shipping"] == totals.total
    assert copy.amount_due == "₦" + f"{Decimal(invoice.amount_due) / 100:,.2f}"
    assert copy.state == "partly_paid" and copy.pay_in_test_mode and not copy.pay_with_paystack


def test_amounts_and_dates_are_written_in_the_account_locale() -> None:
    account = Account.open("Boutique Dakar")
    account.change_details({"locale": "fr_SN"})
    copy = write_customer_copy(_invoice("XOF"), account, today=TODAY)

    assert copy.total.replace("\u202f", " ").replace("\xa0", " ") == "16 000 000 F CFA"
    assert copy.issue_date == "1 avr. 2026"


def test_bank_account_shows_only_with_a_number() -> None:
    account = Account.open("Ada's Kitchen")
    account.change_details({"bank_name": "Wema Bank"})
    assert write_customer_copy(_invoice(), account, today=TODAY).bank_account is None
    account.change_details({"bank_account_number": "8880000363"})
    bank = write_customer_copy(_invoice(), account, today=TODAY).bank_account
    assert bank is not None and (bank.bank_name, bank.account_number) == ("Wema Bank", "8880000363")


def test_account_details_change_only_what_changed() -> None:
    account = Account.open("Ada's Kitchen")
    account.change_details({"bank_name": " Wema Bank ", "locale": "EN_ng"})
    version = account.version

    account.change_details({"bank_name": "Wema Bank"})
    assert account.version == version  # nothing changed, nothing appended
    account.change_details({"bank_name": ""})

    assert account.details == {"locale": "en_NG"}
    assert account.locale == "en_NG"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"website": "x"}, "website"),
        ({"locale": "zz_ZZ"}, "locale"),
        ({"bank_account_number": "12/34"}, "bank_account_number"),
    ],
)
def test_bad_account_details_are_refused(changes: dict[str, str], field: str) -> None:
    account = Account.open("Ada's Kitchen")
    with pytest.raises(InvalidFieldError) as refused:
        account.change_details(dict(changes))
    assert refused.value.field == field
    assert account.details == {}


def test_a_renamed_account_shows_its_new_name_to_customers() -> None:
    account = Account.open("Ada's Kitchen")
    version = account.version

    account.rename("  Ada's Kitchen  ")
    assert account.version == version  # the same name: nothing appended
    account.rename("Ada's Kitchen & Bakery")

    assert account.name == "Ada's Kitchen & Bakery"
    assert write_customer_copy(_invoice(), account, today=TODAY).business.name == account.name


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_an_account_name_has_1_to_200_characters(name: str) -> None:
    account = Account.open("Ada's Kitchen")
    with pytest.raises(InvalidFieldError) as refused:
        account.rename(name)
    assert refused.value.field == "name"
    assert account.name == "Ada's Kitchen"


def test_the_page_offers_part_payment_in_major_units_only_where_the_invoice_does() -> None:
    account = Account.open("Ada's Kitchen")
    partial = write_customer_copy(_invoice(), account, today=TODAY)
    whole = write_customer_copy(_invoice(accept_partial_payments=False), account, today=TODAY)
    francs = write_customer_copy(_invoice("XOF"), account, today=TODAY)

    assert (partial.offers_partial_payment, whole.offers_partial_payment) == (True, False)
    assert (partial.amount_due_major, partial.smallest_amount) == ("160000.00", "0.01")
    assert (francs.amount_due_major, francs.smallest_amount) == ("16000000", "1")
