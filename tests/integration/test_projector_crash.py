"""A projector killed with SIGKILL during batches loses and repeats nothing once restarted
(issue 4): killed 10 times while invoices and payments are written, restarted, caught up, its
read models equal a rebuild from the log, and `risiti replay --check` reports no difference."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount
from risiti.commands.caller import Caller
from risiti.commands.errors import CommandError
from risiti.commands.invoices import (
    CreateInvoice,
    DeleteInvoice,
    MarkPaid,
    MarkUnpaid,
    RecordPayment,
    VoidInvoice,
    create_invoice,
    delete_invoice,
    mark_paid,
    mark_unpaid,
    record_payment,
    void_invoice,
)
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.domain.errors import DomainError
from risiti.domain.invoice import DELETED, Invoice, InvoiceDraft
from risiti.presentation.documents import invoice_record

from .conftest import wait_until
from .operator_runs import operator_env, replay_check

pytestmark = pytest.mark.asyncio

KILLS = 10
WRITERS = 3
PROJECTIONS = ("projection:invoice_list", "projection:balances")
NO_DIFFERENCE = "no difference"


def _env(settings: Settings) -> dict[str, str]:
    return operator_env(settings)


def _start_projector(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "risiti.cli", "projector"],
            env=_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _tail(log: Path) -> str:
    """The end of what the projectors wrote to stderr, for a failure's message."""
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


async def _stop(projector: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if projector.poll() is None:
        projector.send_signal(sig)
    await asyncio.to_thread(projector.wait, 10)


# Writing while the projector comes and goes ---------------------------------------------------


@dataclass
class Writer:
    """Creates invoices and acts on them (payments, mark paid/unpaid, void, delete) until told
    to stop; remembers every invoice it created."""

    ledger: Ledger
    caller: Caller
    seed: int
    invoice_ids: list[UUID] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        rng = random.Random(self.seed)
        while not stop.is_set():
            # A command a rule refused leaves the log as it was.
            with contextlib.suppress(DomainError, CommandError):
                await self._step(rng)
            await asyncio.sleep(rng.uniform(0, 0.01))

    async def _step(self, rng: random.Random) -> None:
        ledger, caller = self.ledger, self.caller
        if not self.invoice_ids or rng.random() < 0.4:
            self.invoice_ids.append((await create_invoice(ledger, self._create(rng))).id)
            return
        on = (caller, rng.choice(self.invoice_ids[-20:]))
        action = rng.choice(("pay", "pay", "pay", "mark_paid", "mark_unpaid", "void", "delete"))
        if action == "pay":
            await record_payment(ledger, RecordPayment(*on, amount=rng.randint(1, 3000)))
        elif action == "mark_paid":
            await mark_paid(ledger, MarkPaid(*on))
        elif action == "mark_unpaid":
            await mark_unpaid(ledger, MarkUnpaid(*on, reason="bounced"))
        elif action == "void":
            await void_invoice(ledger, VoidInvoice(*on, reason="mistake"))
        else:
            await delete_invoice(ledger, DeleteInvoice(*on))

    def _create(self, rng: random.Random) -> CreateInvoice:
        index = len(self.invoice_ids)
        customer: dict[str, Any] = {"name": f"Customer {self.seed}-{index}"}
        if rng.random() < 0.5:
            customer["email"] = f"customer{rng.randint(1, 5)}@crash.test"
        draft = InvoiceDraft(
            account_id=self.caller.account_id,
            livemode=False,
            document_type="invoice",
            currency=rng.choice(("NGN", "XOF", "KES")),
            customer=customer,
            items=[{"description": "Work", "quantity": 1, "unit_price": rng.randint(1000, 9000)}],
            issue_date=datetime.now(UTC).date(),
            accept_partial_payments=rng.random() < 0.7,
        )
        return CreateInvoice(self.caller, draft, finalize=rng.random() < 0.85)


# Watching the projector -----------------------------------------------------------------------


async def _in_a_batch(conn: asyncpg.Connection) -> bool:
    """Whether the projector process holds a transaction open now (a batch being applied)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = 'projector' AND xact_start IS NOT NULL"
        " AND state IN ('active', 'idle in transaction'))"
    )
    return found


async def _positions(conn: asyncpg.Connection | asyncpg.Pool) -> list[tuple[str, int, int]]:
    rows = await conn.fetch(
        "SELECT follower, transaction_id, position FROM log_positions WHERE follower = ANY($1)"
        " ORDER BY follower",
        list(PROJECTIONS),
    )
    return [tuple(row) for row in rows]


async def _kill_during_a_batch(
    projector: subprocess.Popen[bytes], watcher: asyncpg.Connection, rng: random.Random, log: Path
) -> bool:
    """SIGKILL the projector once it has applied a batch and run a moment more, inside a
    transaction (or, not finding it in one within a few seconds, wherever it is); returns
    whether it was seen inside one."""
    before = await _positions(watcher)

    async def moved() -> bool:
        if projector.poll() is not None:
            raise AssertionError(f"the projector exited by itself:\n{_tail(log)}")
        return await _positions(watcher) != before

    await wait_until(moved, timeout=20, interval=0.02)
    await asyncio.sleep(rng.uniform(0.3, 0.8))
    deadline = asyncio.get_running_loop().time() + 3
    seen = False
    while not seen and asyncio.get_running_loop().time() < deadline:
        seen = await _in_a_batch(watcher)
    await _stop(projector, signal.SIGKILL)
    return seen


async def _positions_at_horizon(pool: asyncpg.Pool) -> bool:
    """Whether both projections have applied the log up to the last place every reader sees."""
    rows = await pool.fetch(
        "WITH horizon AS (SELECT transaction_id, position FROM events"
        "   WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
        "   ORDER BY transaction_id DESC, position DESC LIMIT 1)"
        " SELECT p.follower FROM log_positions p, horizon h WHERE p.follower = ANY($1)"
        " AND (p.transaction_id, p.position) = (h.transaction_id, h.position)",
        list(PROJECTIONS),
    )
    return len(rows) == len(PROJECTIONS)


async def _rebuilt_from_log(ledger: Ledger, invoice_ids: list[UUID]) -> dict[str, dict[str, Any]]:
    invoices = [await ledger.get(Invoice, invoice_id) for invoice_id in invoice_ids]
    records = [json.loads(json.dumps(invoice_record(i))) for i in invoices if i.status != DELETED]
    return {record["id"]: record for record in records}


async def _listed(pool: asyncpg.Pool, account: OpenedAccount) -> dict[str, dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT document::text FROM invoice_list WHERE account_id = $1", account.account_id
    )
    documents = [json.loads(row["document"]) for row in rows]
    return {document["id"]: document for document in documents}


async def _replay_check(settings: Settings) -> tuple[int, str]:
    return await replay_check(_env(settings), timeout=60)


async def test_projector_sigkilled_during_batches_ten_times_then_replay_check_finds_no_difference(
    settings: Settings,
    ledger: Ledger,
    pool: asyncpg.Pool,
    account: OpenedAccount,
    tmp_path: Path,
) -> None:
    log = tmp_path / "projector.log"
    rng = random.Random(4)
    caller = Caller(account.account_id, False, "test")
    writers = [Writer(ledger, caller, seed) for seed in range(WRITERS)]
    stop = asyncio.Event()
    writing = [asyncio.create_task(writer.run(stop)) for writer in writers]
    watcher = await pool.acquire()
    try:
        seen_in_a_batch = 0
        for _ in range(KILLS):
            projector = _start_projector(settings, log)
            try:
                seen_in_a_batch += await _kill_during_a_batch(projector, watcher, rng, log)
            finally:
                await _stop(projector, signal.SIGKILL)
    finally:
        await pool.release(watcher)
        stop.set()
        await asyncio.gather(*writing)

    projector = _start_projector(settings, log)
    try:
        await wait_until(lambda: _positions_at_horizon(pool), timeout=30, interval=0.1)
        expected = await _rebuilt_from_log(ledger, [i for w in writers for i in w.invoice_ids])
        assert await _listed(pool, account) == expected

        code, output = await _replay_check(settings)
    finally:
        await _stop(projector, signal.SIGTERM)

    assert code == 0, output
    assert NO_DIFFERENCE in output, output
    # Most kills landed inside a batch's transaction, not between batches.
    assert seen_in_a_batch >= KILLS // 2, (seen_in_a_batch, _tail(log))
    assert len(expected) > 50
