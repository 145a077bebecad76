"""The service layer without a database (as cosmicpython's tests/unit/test_handlers.py): invoice
commands run through the `Ledger` on the in-memory recorder, which passes the same contract as
PostgreSQL's (tests/integration/recorder_contract.py).

What runs here is what writes only events and the rows `LedgerTransaction.save` writes with
them through the recorder's side tables: creating, finalizing, receipts, payments and voids of
invoices (their token, number and series counter), and customers (their unique email); stock is
tests/unit/test_stock_service.py. The commands that still run their own SQL beside their events
run against PostgreSQL (the API tests).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from risiti.commands.caller import Caller
from risiti.commands.customers import CreateCustomer, create_customer
from risiti.commands.errors import NumberTakenError, StaleVersionError
from risiti.commands.invoices import (
    AmendInvoice,
    CreateInvoice,
    FinalizeInvoice,
    RecordPayment,
    UpdateInvoice,
    VoidInvoice,
    amend_invoice,
    create_invoice,
    finalize_invoice,
    record_payment,
    update_invoice,
    void_invoice,
)
from risiti.commands.ledger import Ledger
from risiti.domain.errors import InvalidFieldError, InvalidStateError, PaymentExceedsBalanceError
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.eventstore.memory import MemoryRecorder

pytestmark = pytest.mark.asyncio

YEAR = datetime.now(UTC).year


def _caller(account_id: UUID | None = None, *, livemode: bool = False) -> Caller:
    return Caller(account_id or uuid4(), livemode, "key_test")


def _draft(caller: Caller, **changes: Any) -> InvoiceDraft:
    fields: dict[str, Any] = {
        "account_id": caller.account_id,
        "livemode": caller.livemode,
        "document_type": "invoice",
        "currency": "NGN",
        "customer": {"name": "AfriTech Solutions"},
        "items": [
            {"description": "Server Migration setup", "quantity": Decimal(1), "unit_price": 150000}
        ],
        "issue_date": date(2026, 4, 15),
    }
    return InvoiceDraft(**(fields | changes))


async def _issue(ledger: Ledger, caller: Caller, **changes: Any) -> Invoice:
    return await create_invoice(ledger, CreateInvoice(caller, _draft(caller, **changes)))


async def _pay(ledger: Ledger, caller: Caller, invoice: Invoice, amount: int) -> Invoice:
    return await record_payment(ledger, RecordPayment(caller, invoice.id, amount=amount))


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(MemoryRecorder(), actor="key_test")


async def test_issued_invoices_are_numbered_without_gaps(ledger: Ledger) -> None:
    caller = _caller()

    numbers = [(await _issue(ledger, caller)).document_number for _ in range(3)]

    assert numbers == [f"INV-{YEAR}-0001", f"INV-{YEAR}-0002", f"INV-{YEAR}-0003"]


async def test_each_account_mode_and_document_type_has_its_own_series(ledger: Ledger) -> None:
    first, other = _caller(), _caller()
    live = _caller(first.account_id, livemode=True)
    await _issue(ledger, first)

    assert (await _issue(ledger, first)).document_number == f"INV-{YEAR}-0002"
    assert (await _issue(ledger, other)).document_number == f"INV-{YEAR}-0001"
    assert (await _issue(ledger, live)).document_number == f"INV-{YEAR}-0001"
    receipt = await _issue(ledger, first, document_type="receipt")
    assert receipt.document_number == f"RCT-{YEAR}-0001"


async def test_a_draft_takes_its_number_only_when_finalized(ledger: Ledger) -> None:
    caller = _caller()
    draft = await create_invoice(ledger, CreateInvoice(caller, _draft(caller), finalize=False))
    issued = await _issue(ledger, caller)

    finalized = await finalize_invoice(ledger, FinalizeInvoice(caller, draft.id))

    assert draft.document_number is None
    assert (issued.document_number, finalized.document_number) == (
        f"INV-{YEAR}-0001",
        f"INV-{YEAR}-0002",
    )


async def test_a_refused_finalization_gives_its_number_back(ledger: Ledger) -> None:
    caller = _caller()
    await _issue(ledger, caller, requested_number="ACME-7")

    with pytest.raises(NumberTakenError):
        await _issue(ledger, caller, requested_number="ACME-7")

    assert (await _issue(ledger, caller)).document_number == f"INV-{YEAR}-0001"


async def test_a_receipt_is_issued_paid(ledger: Ledger) -> None:
    caller = _caller()

    receipt = await create_invoice(
        ledger,
        CreateInvoice(caller, _draft(caller, document_type="receipt"), payment_method="cash"),
    )

    stored = await ledger.get(Invoice, receipt.id)
    assert (stored.status, stored.amount_due, stored.amount_paid) == ("paid", 0, 150000)
    assert [payment["method"] for payment in stored.payments] == ["cash"]


async def test_a_partial_payment_leaves_the_balance_due(ledger: Ledger) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller, accept_partial_payments=True)

    paid = await _pay(ledger, caller, invoice, 50000)

    stored = await ledger.get(Invoice, invoice.id)
    assert (paid.status, stored.status) == ("partially_paid", "partially_paid")
    assert (stored.amount_paid, stored.amount_due) == (50000, 100000)


async def test_payments_of_the_whole_balance_settle_the_invoice(ledger: Ledger) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller, accept_partial_payments=True)
    await _pay(ledger, caller, invoice, 50000)

    await _pay(ledger, caller, invoice, 100000)

    stored = await ledger.get(Invoice, invoice.id)
    assert (stored.status, stored.amount_due, len(stored.payments)) == ("paid", 0, 2)


async def test_a_payment_above_the_balance_is_refused_and_records_nothing(
    ledger: Ledger,
) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller, accept_partial_payments=True)
    await _pay(ledger, caller, invoice, 100000)

    with pytest.raises(PaymentExceedsBalanceError):
        await _pay(ledger, caller, invoice, 50001)

    stored = await ledger.get(Invoice, invoice.id)
    assert (stored.amount_due, stored.version) == (50000, invoice.version + 1)


async def test_a_void_invoice_takes_no_payment(ledger: Ledger) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller)
    await void_invoice(ledger, VoidInvoice(caller, invoice.id, reason="issued twice"))

    with pytest.raises(InvalidStateError):
        await _pay(ledger, caller, invoice, 150000)

    assert (await ledger.get(Invoice, invoice.id)).status == "void"


async def test_the_events_carry_who_appended_them(ledger: Ledger) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller)

    assert isinstance(ledger.recorder, MemoryRecorder)
    records = await ledger.recorder.read_aggregate(invoice.id)
    assert {(r.actor, r.account_id, r.livemode) for r in records} == {
        ("key_test", caller.account_id, False)
    }


async def test_an_email_already_on_file_refuses_the_second_customer(ledger: Ledger) -> None:
    caller = _caller()
    await create_customer(ledger, CreateCustomer(caller, "Ada", email="ada@example.com"))
    live = _caller(caller.account_id, livemode=True)

    with pytest.raises(InvalidFieldError):
        await create_customer(ledger, CreateCustomer(caller, "Ada B", email="ada@example.com"))

    await create_customer(ledger, CreateCustomer(live, "Ada", email="ada@example.com"))


DOMAINS = {"description": "Domain registration", "quantity": Decimal(4), "unit_price": 2500}


async def test_amending_an_issued_invoice_reprices_it_under_the_same_number(
    ledger: Ledger,
) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller)
    items = [*invoice.items, DOMAINS]

    amended = await amend_invoice(
        ledger,
        AmendInvoice(
            caller,
            invoice.id,
            invoice.version,
            changes={"items": items},
            reason="Client added domains",
        ),
    )

    stored = await ledger.get(Invoice, invoice.id)
    assert (stored.totals.total, stored.amount_due, stored.status) == (160000, 160000, "open")
    assert stored.document_number == invoice.document_number == amended.document_number
    assert isinstance(ledger.recorder, MemoryRecorder)
    last = (await ledger.recorder.read_aggregate(invoice.id))[-1]
    assert last.topic.endswith("Invoice.Amended")


async def test_an_update_of_an_issued_invoice_s_figures_is_the_same_amendment(
    ledger: Ledger,
) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller)

    await update_invoice(
        ledger, UpdateInvoice(caller, invoice.id, changes={"items": [*invoice.items, DOMAINS]})
    )

    assert isinstance(ledger.recorder, MemoryRecorder)
    records = await ledger.recorder.read_aggregate(invoice.id)
    assert [r.topic.rpartition(".")[2] for r in records] == ["Created", "Finalized", "Amended"]


async def test_an_amendment_at_a_stale_version_is_refused(ledger: Ledger) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller)
    await update_invoice(ledger, UpdateInvoice(caller, invoice.id, changes={"note": "Thanks"}))

    with pytest.raises(StaleVersionError):
        await amend_invoice(
            ledger, AmendInvoice(caller, invoice.id, invoice.version, changes={"items": [DOMAINS]})
        )

    assert (await ledger.get(Invoice, invoice.id)).totals.total == 150000


async def test_an_invoice_with_money_received_is_not_amended_by_the_service(
    ledger: Ledger,
) -> None:
    caller = _caller()
    invoice = await _issue(ledger, caller, accept_partial_payments=True)
    paid = await _pay(ledger, caller, invoice, 50000)

    with pytest.raises(InvalidStateError, match="Mark it unpaid first"):
        await amend_invoice(ledger, AmendInvoice(caller, invoice.id, changes={"items": [DOMAINS]}))

    stored = await ledger.get(Invoice, invoice.id)
    assert (stored.version, stored.totals.total) == (paid.version, 150000)
