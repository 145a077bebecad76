"""The Customer and TaxRate aggregates' rules, without any I/O."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from risiti.domain.customer import Customer, checked_email, normalized_email
from risiti.domain.errors import InvalidFieldError
from risiti.domain.external_ids import MAX_EXTERNAL_ID_LENGTH, checked_external_id
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.domain.tax_rate import MAX_DECIMAL_PLACES, TaxRate
from risiti.eventstore.mapper import create_mapper

ACCOUNT = UUID("00000000-0000-4000-8000-000000000001")


def _customer(**changes: Any) -> Customer:
    fields: dict[str, Any] = {"account_id": ACCOUNT, "livemode": False, "name": "Ada Okafor"}
    return Customer.create(**(fields | changes))


def _tax_rate(**changes: Any) -> TaxRate:
    fields: dict[str, Any] = {
        "account_id": ACCOUNT,
        "livemode": False,
        "name": "VAT",
        "percentage": Decimal("7.5"),
    }
    return TaxRate.create(**(fields | changes))


def _replay(aggregate: Customer | TaxRate) -> Any:
    replayed: Any = None
    for domain_event in aggregate.collect_events():
        replayed = domain_event.mutate(replayed)
    return replayed


# --- Customer ---------------------------------------------------------------------------------


def test_customer_is_created_with_a_name_only() -> None:
    customer = _customer()

    assert (customer.account_id, customer.livemode, customer.name) == (
        ACCOUNT,
        False,
        "Ada Okafor",
    )
    assert (customer.email, customer.phone, customer.address, customer.metadata) == (
        None,
        None,
        None,
        {},
    )
    assert isinstance(customer.id, UUID)


def test_customer_keeps_every_field_it_is_created_with() -> None:
    customer = _customer(
        livemode=True,
        email="ada@example.com",
        phone="+2348012345678",
        address="12 Marina, Lagos",
        metadata={"crm_id": "C-42"},
    )

    assert (customer.livemode, customer.email, customer.phone) == (
        True,
        "ada@example.com",
        "+2348012345678",
    )
    assert (customer.address, customer.metadata) == ("12 Marina, Lagos", {"crm_id": "C-42"})


def test_customer_name_is_stripped() -> None:
    assert _customer(name="  Ada Okafor \n").name == "Ada Okafor"


@pytest.mark.parametrize("name", ["", " ", "\t\n"])
def test_customer_name_is_required(name: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        _customer(name=name)

    assert refused.value.field == "name"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ada@example.com", "ada@example.com"),
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com\n", "ada@example.com"),
        ("  ADA.Okafor@Example.com ", "ada.okafor@example.com"),
    ],
)
def test_customer_email_is_normalized(given: str, stored: str) -> None:
    assert _customer(email=given).email == stored


NOT_EMAILS = [
    "ada.example.com",
    "ada",
    "not an email",
    "[email protected]",  # Paycashless' documented example, obfuscated
    "ada@localhost",
    "ada@example..com",
    "ada@-example.com",
    "ada@example.c",
]


@pytest.mark.parametrize("email", NOT_EMAILS)
def test_customer_invalid_email_is_refused(email: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        _customer(email=email)

    assert refused.value.field == "email"


@pytest.mark.parametrize("email", ["ada@example.com", "a.b+c@mail.co.uk", "ada@münchen.de"])
def test_an_email_address_is_kept(email: str) -> None:
    assert checked_email(email) == email


@pytest.mark.parametrize("email", NOT_EMAILS)
def test_an_invoice_naming_its_customer_by_a_non_email_is_refused_as_customer_email(
    email: str,
) -> None:
    draft = InvoiceDraft(
        account_id=ACCOUNT,
        livemode=False,
        document_type="invoice",
        currency="NGN",
        customer={"name": "Ada", "email": email},
        items=[{"description": "Audit", "quantity": Decimal(1), "unit_price": 100}],
        issue_date=date(2026, 4, 15),
    )

    with pytest.raises(InvalidFieldError) as refused:
        Invoice.create(draft, view_token="token")

    assert refused.value.field == "customer.email"


@pytest.mark.parametrize(
    ("given", "normalized"),
    [(None, None), ("", None), ("   ", None), (" Ada@Example.com ", "ada@example.com")],
)
def test_normalized_email_treats_blank_as_none(given: str | None, normalized: str | None) -> None:
    assert normalized_email(given) == normalized


def test_as_invoice_customer_is_the_copy_an_invoice_keeps() -> None:
    customer = _customer(
        email=" Ada@Example.com",
        phone="+2348012345678",
        address="12 Marina, Lagos",
        metadata={"crm_id": "C-42"},
    )

    assert customer.as_invoice_customer() == {
        "id": customer.id,
        "name": "Ada Okafor",
        "email": "ada@example.com",
        "phone": "+2348012345678",
        "address": "12 Marina, Lagos",
    }


def test_as_invoice_customer_is_a_valid_invoice_customer() -> None:
    customer = _customer()

    invoice = Invoice.create(
        InvoiceDraft(
            account_id=ACCOUNT,
            livemode=False,
            document_type="invoice",
            currency="NGN",
            customer=customer.as_invoice_customer(),
            items=[{"description": "Setup", "quantity": Decimal(1), "unit_price": 1000}],
            issue_date=date(2026, 4, 15),
        ),
        view_token="token",
    )

    assert invoice.customer["id"] == customer.id


def test_customer_replay_equals_live() -> None:
    customer = _customer(email="Ada@Example.com", metadata={"a": 1})

    assert vars(_replay(customer)) == vars(customer)


# --- TaxRate ----------------------------------------------------------------------------------


def test_tax_rate_is_created_exclusive_by_default() -> None:
    rate = _tax_rate()

    assert (rate.account_id, rate.livemode, rate.name, rate.percentage) == (
        ACCOUNT,
        False,
        "VAT",
        Decimal("7.5"),
    )
    assert (rate.inclusive, rate.description) == (False, None)
    assert isinstance(rate.id, UUID)


def test_tax_rate_keeps_every_field_it_is_created_with() -> None:
    rate = _tax_rate(livemode=True, inclusive=True, description="Value added tax")

    assert (rate.livemode, rate.inclusive, rate.description) == (True, True, "Value added tax")


def test_tax_rate_name_is_stripped() -> None:
    assert _tax_rate(name="  VAT ").name == "VAT"


@pytest.mark.parametrize("name", ["", "   "])
def test_tax_rate_name_is_required(name: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        _tax_rate(name=name)

    assert refused.value.field == "name"


@pytest.mark.parametrize(
    "percentage",
    ["0", "0.0001", "7.5", "7.1234", "12.5000", "99.9999", "100", "100.0000"],
)
def test_tax_rate_percentage_within_bounds_is_accepted(percentage: str) -> None:
    assert _tax_rate(percentage=Decimal(percentage)).percentage == Decimal(percentage)


@pytest.mark.parametrize(
    "percentage", ["-0.0001", "-1", "100.0001", "101", "NaN", "Infinity", "-Infinity"]
)
def test_tax_rate_percentage_outside_0_to_100_is_refused(percentage: str) -> None:
    with pytest.raises(InvalidFieldError, match="between 0 and 100") as refused:
        _tax_rate(percentage=Decimal(percentage))

    assert refused.value.field == "percentage"


@pytest.mark.parametrize("percentage", ["7.12345", "0.00001", "99.99999"])
def test_tax_rate_percentage_has_at_most_four_decimal_places(percentage: str) -> None:
    assert MAX_DECIMAL_PLACES == 4

    with pytest.raises(InvalidFieldError, match="decimal places") as refused:
        _tax_rate(percentage=Decimal(percentage))

    assert refused.value.field == "percentage"


def test_as_invoice_tax_is_the_copy_an_invoice_keeps() -> None:
    rate = _tax_rate(inclusive=True, description="not copied")

    assert rate.as_invoice_tax() == {
        "name": "VAT",
        "percentage": Decimal("7.5"),
        "inclusive": True,
        "tax_rate_id": rate.id,
    }


def test_as_invoice_tax_prices_an_invoice() -> None:
    rate = _tax_rate()

    invoice = Invoice.create(
        InvoiceDraft(
            account_id=ACCOUNT,
            livemode=False,
            document_type="invoice",
            currency="NGN",
            customer={"name": "Ada Okafor"},
            items=[{"description": "Setup", "quantity": Decimal(1), "unit_price": 250000}],
            issue_date=date(2026, 4, 15),
            taxes=[rate.as_invoice_tax()],
        ),
        view_token="token",
    )

    assert (invoice.totals.tax_total, invoice.totals.total) == (18750, 268750)


def test_tax_rate_replay_equals_live() -> None:
    rate = _tax_rate(description="Value added tax")

    assert vars(_replay(rate)) == vars(rate)


def test_each_customer_and_tax_rate_gets_its_own_id() -> None:
    assert _tax_rate().id != _tax_rate().id
    assert _customer().id != _customer().id


# --- External ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [_customer, _tax_rate], ids=["customer", "tax_rate"])
def test_external_id_of_the_previous_system_is_kept_without_surrounding_spaces(make: Any) -> None:
    assert make().external_id is None
    assert make(external_id=" cus_GnXkWlEOtw ").external_id == "cus_GnXkWlEOtw"
    assert make(external_id="606213207287745").external_id == "606213207287745"


@pytest.mark.parametrize("make", [_customer, _tax_rate], ids=["customer", "tax_rate"])
@pytest.mark.parametrize("external_id", ["", "   ", "x" * 101, "cus_1\ncus_2", "txr\x00"])
def test_external_id_that_is_empty_too_long_or_has_control_characters_is_refused(
    make: Any, external_id: str
) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        make(external_id=external_id)

    assert refused.value.field == "external_id"


def test_external_id_of_100_characters_is_accepted() -> None:
    assert checked_external_id("x" * MAX_EXTERNAL_ID_LENGTH) == "x" * 100


def test_external_id_refusal_names_the_field_it_came_from() -> None:
    with pytest.raises(InvalidFieldError) as refused:
        checked_external_id("", field="recipient")

    assert refused.value.field == "recipient"


@pytest.mark.parametrize("make", [_customer, _tax_rate], ids=["customer", "tax_rate"])
def test_external_id_is_recorded_in_the_created_event_and_replayed(make: Any) -> None:
    aggregate = make(external_id="txr_1")

    replayed = _replay(aggregate)

    assert replayed.external_id == "txr_1"


@pytest.mark.parametrize("make", [_customer, _tax_rate], ids=["customer", "tax_rate"])
def test_customer_or_rate_recorded_before_external_ids_replays_without_one(make: Any) -> None:
    mapper = create_mapper()
    created = mapper.to_stored_event(make(external_id="old").collect_events()[0])
    state = json.loads(created.state)
    del state["external_id"]  # as Created events were written before external ids
    old = StoredEvent(
        created.originator_id, created.originator_version, created.topic, json.dumps(state).encode()
    )

    replayed = mapper.to_domain_event(old).mutate(None)

    assert replayed is not None
    assert replayed.external_id is None
