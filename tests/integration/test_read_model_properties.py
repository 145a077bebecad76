"""Property: for random sequences of commands, every read model equals what is computed
directly from the aggregates, and a replay of the whole log equals the live read models.

Each example runs its commands through the service layer in a fresh account, catches every
projection up, then recomputes invoice_list, invoice_balances and balances from the invoices
as `ledger.get` folds them. The module has a database of its own, so that replaying the whole
log in every example stays quick wherever the module runs in the suite.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from risiti.commands.accounts import open_account
from risiti.commands.caller import Caller
from risiti.commands.errors import NotFoundError
from risiti.commands.invoices import (
    CreateInvoice,
    DeleteInvoice,
    FinalizeInvoice,
    MarkPaid,
    MarkUnpaid,
    RecordPayment,
    SendInvoice,
    UpdateInvoice,
    VoidInvoice,
    create_invoice,
    delete_invoice,
    finalize_invoice,
    mark_paid,
    mark_unpaid,
    record_payment,
    send_invoice,
    update_invoice,
    void_invoice,
)
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.domain.errors import DomainError
from risiti.domain.invoice import DELETED, OPEN, PAID, PARTIALLY_PAID, Invoice, InvoiceDraft
from risiti.embedded import database_url_for
from risiti.eventstore.database import connect, create_database, create_pool, drop_database
from risiti.eventstore.migrations import migrate
from risiti.eventstore.subscription import process_next_batch
from risiti.presentation.documents import invoice_record
from risiti.projections.replay import replay
from risiti.projections.runner import BatchApplier, all_projections, catch_up, follower_name

from .conftest import wait_until

pytestmark = pytest.mark.asyncio

CURRENCIES = ("XOF", "NGN", "KES", "USD", "KWD")
# Two spellings of Ada's address link to one customer; None leaves the invoice unlinked.
EMAILS = (None, None, "ada@example.test", "Ada@Example.TEST", "bola@example.test")
COUNTED = (OPEN, PARTIALLY_PAID, PAID)
TODAY = datetime.now(UTC).date()


# The commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    currency: str
    email: str | None
    partial: bool
    max_installments: int | None
    finalize: bool
    receipt: bool
    unit_price: int
    quantity: int
    due_in_days: int | None


@dataclass(frozen=True)
class Act:
    """A command on the `target`-th invoice created so far (modulo how many there are)."""

    action: str
    target: int
    amount: str = "raw"
    """For payments: `raw` pays `raw_amount`; `half`, `due`, `over` are relative to what is due."""
    raw_amount: int = 0
    days: int | None = None


@dataclass(frozen=True)
class CatchUp:
    """Apply what the log holds so far, in batches of `batch_size`, as a running projector
    would: its folder keeps the aggregates between batches."""

    batch_size: int


ACTIONS = (
    "finalize",
    "pay",
    "pay",
    "pay",
    "mark_paid",
    "mark_unpaid",
    "void",
    "note",
    "due_date",
    "delete",
    "send",
    "customer",
    "currency",
)

creates = st.builds(
    Create,
    currency=st.sampled_from(CURRENCIES),
    email=st.sampled_from(EMAILS),
    partial=st.sampled_from((True, True, False)),
    max_installments=st.one_of(st.none(), st.integers(1, 3)),
    finalize=st.sampled_from((True, True, False)),
    receipt=st.sampled_from((False, False, False, True)),
    unit_price=st.integers(1, 500_000),
    quantity=st.integers(1, 5),
    due_in_days=st.one_of(st.none(), st.integers(0, 60)),
)
acts = st.builds(
    Act,
    action=st.sampled_from(ACTIONS),
    target=st.integers(0, 3),
    amount=st.sampled_from(("raw", "half", "half", "due", "over")),
    raw_amount=st.one_of(st.integers(-10, 1000), st.integers(1000, 600_000)),
    days=st.one_of(st.none(), st.integers(0, 90)),
)
catch_ups = st.builds(CatchUp, batch_size=st.integers(1, 8))
Step = Create | Act | CatchUp
# A few invoices first, then commands on them with more invoices now and then.
programs = st.builds(
    lambda first, rest: first + rest,
    st.lists(creates, min_size=1, max_size=4),
    st.lists(st.one_of(creates, acts, acts, acts, catch_ups), min_size=2, max_size=30),
)


class Run:
    """One example's account and the invoices its commands created."""

    def __init__(self, ledger: Ledger, caller: Caller) -> None:
        self.ledger = ledger
        self.caller = caller
        self.invoices: list[Invoice] = []
        self.refused = 0
        self.appliers = {p.name: (p, BatchApplier([p])) for p in all_projections()}

    async def step(self, step: Step) -> None:
        try:
            if isinstance(step, CatchUp):
                await self._catch_up(step.batch_size)
            elif isinstance(step, Create):
                self.invoices.append(await create_invoice(self.ledger, self._create(step)))
            elif self.invoices:
                index = step.target % len(self.invoices)
                self.invoices[index] = await self._act(step, self.invoices[index])
        except (DomainError, NotFoundError):  # refused by a rule, or a deleted draft
            self.refused += 1

    async def _catch_up(self, batch_size: int) -> None:
        for projection, applier in self.appliers.values():
            follower = follower_name(projection)
            while await process_next_batch(self.ledger.pool, follower, applier, batch_size):
                pass

    def _create(self, step: Create) -> CreateInvoice:
        draft = InvoiceDraft(
            account_id=self.caller.account_id,
            livemode=False,
            document_type="receipt" if step.receipt else "invoice",
            currency=step.currency,
            customer=_customer_named(step.email),
            items=[
                {"description": "Work", "quantity": step.quantity, "unit_price": step.unit_price}
            ],
            issue_date=TODAY,
            due_date=TODAY + timedelta(days=step.due_in_days)
            if step.due_in_days is not None
            else None,
            accept_partial_payments=step.partial,
            max_installments=step.max_installments,
        )
        return CreateInvoice(self.caller, draft, finalize=step.finalize)

    async def _act(self, step: Act, invoice: Invoice) -> Invoice:
        on = (self.caller, invoice.id)
        command: Callable[[], Awaitable[Invoice]] = {
            "finalize": lambda: finalize_invoice(self.ledger, FinalizeInvoice(*on)),
            "pay": lambda: record_payment(
                self.ledger, RecordPayment(*on, amount=_amount(step, invoice))
            ),
            "mark_paid": lambda: mark_paid(self.ledger, MarkPaid(*on)),
            "mark_unpaid": lambda: mark_unpaid(self.ledger, MarkUnpaid(*on, reason="bounced")),
            "void": lambda: void_invoice(self.ledger, VoidInvoice(*on, reason="mistake")),
            "note": lambda: update_invoice(
                self.ledger, UpdateInvoice(*on, changes={"note": f"note {step.raw_amount}"})
            ),
            "due_date": lambda: update_invoice(
                self.ledger, UpdateInvoice(*on, changes={"due_date": _due(step)})
            ),
            "delete": lambda: delete_invoice(self.ledger, DeleteInvoice(*on)),
            "send": lambda: send_invoice(self.ledger, SendInvoice(*on)),
            "customer": lambda: update_invoice(
                self.ledger, UpdateInvoice(*on, changes={"customer": _customer(step.raw_amount)})
            ),
            "currency": lambda: update_invoice(
                self.ledger, UpdateInvoice(*on, changes={"currency": _currency(step.raw_amount)})
            ),
        }[step.action]
        return await command()


def _customer_named(email: str | None) -> dict[str, Any]:
    customer: dict[str, Any] = {"name": "Ada" if email else "Walk-in"}
    if email:
        customer["email"] = email
    return customer


def _customer(choice: int) -> dict[str, Any]:
    """Another customer for a draft (issued invoices refuse the change)."""
    return _customer_named(EMAILS[choice % len(EMAILS)])


def _currency(choice: int) -> str:
    """Another currency for a draft."""
    return CURRENCIES[choice % len(CURRENCIES)]


def _amount(step: Act, invoice: Invoice) -> int:
    due = invoice.amount_due
    return {"raw": step.raw_amount, "half": due // 2, "due": due, "over": due + 1}[step.amount]


def _due(step: Act) -> date | None:
    return TODAY + timedelta(days=step.days) if step.days is not None else None


# What the aggregates say ---------------------------------------------------------------------


def _customer_id(invoice: Invoice) -> UUID | None:
    found = invoice.customer.get("id")
    return UUID(str(found)) if found else None


def _contribution(invoice: Invoice) -> dict[str, Any]:
    counted = invoice.status in COUNTED
    return {
        "customer_id": _customer_id(invoice),
        "currency": invoice.currency,
        "due_date": invoice.due_date,
        "invoiced": invoice.totals.total if counted else 0,
        "paid": invoice.amount_paid if counted else 0,
        "outstanding": invoice.amount_due if counted else 0,
    }


Sums = dict[tuple[UUID | None, str], tuple[int, int, int]]


def _expected_balances(invoices: list[Invoice]) -> Sums:
    """Per (customer or None for the whole account, currency): invoiced, paid, outstanding."""
    sums: Sums = {}
    for invoice in invoices:
        if invoice.status not in COUNTED:
            continue
        amounts = (invoice.totals.total, invoice.amount_paid, invoice.amount_due)
        customer_id = _customer_id(invoice)
        keys = [(None, invoice.currency)]
        if customer_id is not None:
            keys.append((customer_id, invoice.currency))
        for key in keys:
            before = sums.get(key, (0, 0, 0))
            sums[key] = (before[0] + amounts[0], before[1] + amounts[1], before[2] + amounts[2])
    return sums


# The checks ----------------------------------------------------------------------------------


async def _catch_up_everything(pool: asyncpg.Pool) -> None:
    """Apply every committed event to every projection (the horizon may lag behind a moment
    while another transaction on the server is open)."""
    last = await pool.fetchrow(
        "SELECT transaction_id, position FROM events"
        " ORDER BY transaction_id DESC, position DESC LIMIT 1"
    )
    assert last is not None
    projections = all_projections()

    async def caught_up() -> bool:
        for projection in projections:
            await catch_up(pool, projection)
        at = await pool.fetch(
            "SELECT transaction_id, position FROM log_positions WHERE follower = ANY($1)",
            [follower_name(p) for p in projections],
        )
        return len(at) == len(projections) and all(tuple(row) == tuple(last) for row in at)

    await wait_until(caught_up, timeout=20, interval=0.02)


async def _check_invoice_list(
    pool: asyncpg.Pool, account_id: UUID, invoices: list[Invoice]
) -> None:
    rows = await pool.fetch(
        "SELECT id, type, status, currency, document_number, customer_id, customer_email, total,"
        " amount_paid, amount_due, due_date, version, document::text FROM invoice_list"
        " WHERE account_id = $1",
        account_id,
    )
    listed = {row["id"]: row for row in rows}
    kept = {invoice.id: invoice for invoice in invoices if invoice.status != DELETED}
    assert set(listed) == set(kept), "invoice_list holds other invoices than the live ones"
    for invoice_id, invoice in kept.items():
        row = listed[invoice_id]
        record = json.loads(json.dumps(invoice_record(invoice)))
        assert json.loads(row["document"]) == record
        assert {
            "type": row["type"],
            "status": row["status"],
            "currency": row["currency"],
            "document_number": row["document_number"],
            "customer_id": row["customer_id"],
            "customer_email": row["customer_email"],
            "total": row["total"],
            "amount_paid": row["amount_paid"],
            "amount_due": row["amount_due"],
            "due_date": row["due_date"],
            "version": row["version"],
        } == {
            "type": invoice.document_type,
            "status": invoice.status,
            "currency": invoice.currency,
            "document_number": invoice.document_number,
            "customer_id": _customer_id(invoice),
            "customer_email": invoice.customer.get("email"),
            "total": invoice.totals.total,
            "amount_paid": invoice.amount_paid,
            "amount_due": invoice.amount_due,
            "due_date": invoice.due_date,
            "version": invoice.version,
        }


async def _check_invoice_balances(
    pool: asyncpg.Pool, account_id: UUID, invoices: list[Invoice]
) -> None:
    rows = await pool.fetch(
        "SELECT invoice_id, livemode, customer_id, currency, due_date, invoiced, paid,"
        " outstanding FROM invoice_balances WHERE account_id = $1",
        account_id,
    )
    stored = {row["invoice_id"]: row for row in rows}
    assert set(stored) <= {invoice.id for invoice in invoices}
    for invoice in invoices:
        expected = _contribution(invoice)
        row = stored.get(invoice.id)
        if row is None:
            # An invoice that counts towards nothing may go without a row.
            assert (expected["invoiced"], expected["paid"], expected["outstanding"]) == (0, 0, 0)
            continue
        assert row["livemode"] is False
        assert {key: row[key] for key in expected} == expected, invoice.status


async def _check_balances(pool: asyncpg.Pool, account_id: UUID, invoices: list[Invoice]) -> None:
    rows = await pool.fetch(
        "SELECT livemode, customer_id, currency, invoiced, paid, outstanding FROM balances"
        " WHERE account_id = $1",
        account_id,
    )
    assert all(row["livemode"] is False for row in rows)
    stored = {
        (row["customer_id"], row["currency"]): (row["invoiced"], row["paid"], row["outstanding"])
        for row in rows
        # A sum that fell back to nothing (a voided invoice, payments reversed) may keep its row.
        if (row["invoiced"], row["paid"], row["outstanding"]) != (0, 0, 0)
    }
    assert stored == _expected_balances(invoices)


# The property --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def own_pool(server_urls: tuple[str, str], settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database of this module's own: its log holds only these examples."""
    server_url = server_urls[0]
    name = f"risiti_test_props_{secrets.token_hex(6)}"
    await create_database(server_url, name)
    own = settings.model_copy(update={"database_url": database_url_for(server_url, name)})
    try:
        conn = await connect(own, "test-migrate")
        try:
            await migrate(conn)
        finally:
            await conn.close()
        db_pool = await create_pool(own, "tests-properties", max_size=5)
        try:
            yield db_pool
        finally:
            await db_pool.close()
    finally:
        await drop_database(server_url, name)


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=programs)
# A draft's sums, seen by the projector, then moved to another customer and currency: the sums
# it left must read the same live as after a replay that never saw them.
@example(
    program=[
        Create("NGN", "ada@example.test", True, None, False, False, 5000, 1, None),
        CatchUp(1),
        Act("customer", 0, raw_amount=4),
        CatchUp(1),
        Act("currency", 0, raw_amount=0),
        Act("finalize", 0),
    ]
)
async def test_every_read_model_equals_what_the_aggregates_say(
    own_pool: asyncpg.Pool, program: list[Step]
) -> None:
    pool = own_pool
    ledger = Ledger(pool)
    opened = await open_account(ledger, f"Property Business {secrets.token_hex(3)}")
    run = Run(ledger, Caller(opened.account_id, False, "test"))
    for step in program:
        await run.step(step)

    await _catch_up_everything(pool)

    invoices = [await ledger.get(Invoice, invoice.id) for invoice in run.invoices]
    # The commands' answers are the aggregates as they stand: nothing else wrote to them.
    assert [i.version for i in invoices] == [i.version for i in run.invoices]
    await _check_invoice_list(pool, opened.account_id, invoices)
    await _check_invoice_balances(pool, opened.account_id, invoices)
    await _check_balances(pool, opened.account_id, invoices)

    result = await replay(pool, all_projections(), check=True)
    assert not any(result.differences.values()), result.differences
