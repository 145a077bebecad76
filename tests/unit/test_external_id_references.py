"""Customers and tax rates named by the id a business' previous system gave them (its
external_id) or by their Risiti id, through the service layer on the in-memory recorder
(`commands/references.py`, `side_tables.keep_external_id`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from risiti.commands.caller import Caller
from risiti.commands.customers import CreateCustomer, create_customer
from risiti.commands.errors import ExternalIdTakenError, UnknownReferenceError
from risiti.commands.invoices import CreateInvoice, UpdateInvoice, create_invoice, update_invoice
from risiti.commands.ledger import Ledger
from risiti.commands.references import ReferenceFields, get_referenced, referenced
from risiti.commands.tax_rates import CreateTaxRate, create_tax_rate
from risiti.domain.customer import Customer
from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.domain.tax_rate import TaxRate
from risiti.eventstore.memory import MemoryRecorder

pytestmark = pytest.mark.asyncio


def _caller(account_id: UUID | None = None, *, livemode: bool = False) -> Caller:
    return Caller(account_id or uuid4(), livemode, "key_test")


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(MemoryRecorder(), actor="key_test")


@pytest.fixture
def recorder(ledger: Ledger) -> MemoryRecorder:
    assert isinstance(ledger.recorder, MemoryRecorder)
    return ledger.recorder


async def _customer(ledger: Ledger, caller: Caller, external_id: str | None) -> Customer:
    return await create_customer(
        ledger, CreateCustomer(caller, "Mwenda Deno", external_id=external_id)
    )


async def _tax_rate(ledger: Ledger, caller: Caller, external_id: str | None) -> TaxRate:
    return await create_tax_rate(
        ledger, CreateTaxRate(caller, "VAT", Decimal("7.5"), external_id=external_id)
    )


def _draft(caller: Caller, customer: dict[str, Any]) -> InvoiceDraft:
    return InvoiceDraft(
        account_id=caller.account_id,
        livemode=caller.livemode,
        document_type="invoice",
        currency="NGN",
        customer=customer,
        items=[{"description": "Banana", "quantity": Decimal(50), "unit_price": 100}],
        issue_date=date(2026, 4, 15),
    )


async def test_invoice_names_its_customer_by_external_id(ledger: Ledger) -> None:
    caller = _caller()
    customer = await _customer(ledger, caller, "cus_GnXkWlEOtw")

    invoice = await create_invoice(
        ledger, CreateInvoice(caller, _draft(caller, {"id": "cus_GnXkWlEOtw"}))
    )

    assert invoice.customer["id"] == customer.id
    assert invoice.customer["name"] == "Mwenda Deno"


async def test_invoice_names_its_tax_rates_by_external_id_or_id(ledger: Ledger) -> None:
    caller = _caller()
    by_external_id = await _tax_rate(ledger, caller, "txr_1")
    by_id = await _tax_rate(ledger, caller, None)

    invoice = await create_invoice(
        ledger,
        CreateInvoice(
            caller, _draft(caller, {"name": "Ada"}), tax_rate_ids=["txr_1", str(by_id.id)]
        ),
    )

    assert [tax["tax_rate_id"] for tax in invoice.taxes] == [by_external_id.id, by_id.id]
    assert invoice.totals.tax_total == 2 * 375


async def test_a_risiti_id_still_names_the_customer(ledger: Ledger) -> None:
    caller = _caller()
    customer = await _customer(ledger, caller, "cus_1")

    for reference in (customer.id, str(customer.id), str(customer.id).upper()):
        named = await referenced(ledger, Customer, reference, caller, field="customer_id")
        assert named.id == customer.id


async def test_an_external_id_shaped_like_a_uuid_names_its_customer(ledger: Ledger) -> None:
    """A previous system that gave out UUIDs: one that is no Risiti id is an external_id."""
    caller = _caller()
    their_id = str(uuid4())
    customer = await _customer(ledger, caller, their_id)

    assert (await get_referenced(ledger, Customer, their_id, caller)).id == customer.id


async def test_unknown_reference_is_a_validation_error_naming_the_field_it_was_sent_in(
    ledger: Ledger,
) -> None:
    caller = _caller()
    await _customer(ledger, caller, "cus_1")

    for field in ("customer_id", "recipient", "client"):
        with pytest.raises(InvalidFieldError) as refused:
            await referenced(ledger, Customer, "cus_2", caller, field=field)
        assert refused.value.field == field
        assert str(refused.value) == "No customer has the id or external_id 'cus_2'."


async def test_unknown_external_id_is_refused_naming_the_field_and_changes_nothing(
    ledger: Ledger, recorder: MemoryRecorder
) -> None:
    caller = _caller()
    await _tax_rate(ledger, caller, "txr_1")
    before = len(recorder.events)
    draft = _draft(caller, {"name": "Ada"})

    with pytest.raises(InvalidFieldError) as refused:
        await create_invoice(
            ledger,
            CreateInvoice(
                caller,
                draft,
                tax_rate_ids=["txr_1", "txr_2"],
                reference_fields=ReferenceFields(tax_rates="taxRateIds"),
            ),
        )

    assert refused.value.field == "taxRateIds.1"
    assert "No tax rate has the id or external_id 'txr_2'" in str(refused.value)
    assert len(recorder.events) == before


async def test_update_names_the_customer_by_external_id_under_the_field_it_came_in(
    ledger: Ledger,
) -> None:
    caller = _caller()
    customer = await _customer(ledger, caller, "606213207287745")
    invoice = await create_invoice(
        ledger, CreateInvoice(caller, _draft(caller, {"name": "Ada"}), finalize=False)
    )
    fields = ReferenceFields(customer="client")

    changed = await update_invoice(
        ledger,
        UpdateInvoice(
            caller,
            invoice.id,
            changes={"customer": {"id": "606213207287745"}},
            reference_fields=fields,
        ),
    )
    with pytest.raises(InvalidFieldError) as refused:
        await update_invoice(
            ledger,
            UpdateInvoice(
                caller, invoice.id, changes={"customer": {"id": "0"}}, reference_fields=fields
            ),
        )

    assert changed.customer["id"] == customer.id
    assert refused.value.field == "client"


@pytest.mark.parametrize(("other_account", "livemode"), [(True, False), (False, True)])
async def test_another_accounts_or_modes_external_id_and_id_name_nothing(
    ledger: Ledger, other_account: bool, livemode: bool
) -> None:
    caller = _caller()
    customer = await _customer(ledger, caller, "cus_1")
    other = _caller(None if other_account else caller.account_id, livemode=livemode)

    for reference in ("cus_1", str(customer.id)):
        with pytest.raises(UnknownReferenceError):
            await get_referenced(ledger, Customer, reference, other)


async def test_a_tax_rates_external_id_or_id_names_no_customer(ledger: Ledger) -> None:
    caller = _caller()
    rate = await _tax_rate(ledger, caller, "shared_1")

    for reference in ("shared_1", str(rate.id)):
        with pytest.raises(UnknownReferenceError):
            await get_referenced(ledger, Customer, reference, caller)


async def test_external_id_is_unique_per_account_and_mode(
    ledger: Ledger, recorder: MemoryRecorder
) -> None:
    caller = _caller()
    first = await _customer(ledger, caller, "cus_GnXkWlEOtw")
    before = len(recorder.events)

    with pytest.raises(ExternalIdTakenError) as refused:
        await _customer(ledger, caller, "cus_GnXkWlEOtw")

    assert refused.value.holder_id == first.id
    assert str(first.id) in str(refused.value)
    assert len(recorder.events) == before
    # The same external_id is free in live mode, in another account, and for a tax rate.
    await _customer(ledger, _caller(caller.account_id, livemode=True), "cus_GnXkWlEOtw")
    await _customer(ledger, _caller(), "cus_GnXkWlEOtw")
    await _tax_rate(ledger, caller, "cus_GnXkWlEOtw")


async def test_a_tax_rates_external_id_is_unique_too(ledger: Ledger) -> None:
    caller = _caller()
    first = await _tax_rate(ledger, caller, "txr_1")

    with pytest.raises(ExternalIdTakenError) as refused:
        await _tax_rate(ledger, caller, "txr_1")

    assert (refused.value.kind, refused.value.holder_id) == ("tax rate", first.id)


async def test_a_refused_customer_leaves_its_external_id_free(ledger: Ledger) -> None:
    caller = _caller()
    await create_customer(ledger, CreateCustomer(caller, "Ada", email="ada@example.com"))

    with pytest.raises(InvalidFieldError):  # the email is another customer's
        await create_customer(
            ledger, CreateCustomer(caller, "Ada B", email="ada@example.com", external_id="cus_9")
        )
    kept = await _customer(ledger, caller, "cus_9")

    assert (await get_referenced(ledger, Customer, "cus_9", caller)).id == kept.id


async def test_a_customer_without_an_external_id_is_named_by_its_id_only(ledger: Ledger) -> None:
    caller = _caller()
    customer = await _customer(ledger, caller, None)
    await _customer(ledger, caller, None)  # many customers have none: none is not a value

    with pytest.raises(UnknownReferenceError):
        await get_referenced(ledger, Customer, "None", caller)
    assert (await get_referenced(ledger, Customer, str(customer.id), caller)).id == customer.id


async def test_an_invoice_is_not_a_customer(ledger: Ledger) -> None:
    caller = _caller()
    invoice = await create_invoice(ledger, CreateInvoice(caller, _draft(caller, {"name": "A"})))

    assert isinstance(invoice, Invoice)
    with pytest.raises(UnknownReferenceError):
        await get_referenced(ledger, Customer, str(invoice.id), caller)


@pytest.mark.parametrize("reference", ["cus\x00", "x" * 101, "", "   "])
async def test_text_that_no_external_id_can_be_names_nothing(
    ledger: Ledger, reference: str
) -> None:
    caller = _caller()
    await _customer(ledger, caller, "cus")

    with pytest.raises(UnknownReferenceError):
        await get_referenced(ledger, Customer, reference, caller)
