"""Followers partitioned by account (issue 15, docs/scaling.md "Partitions"): two `risiti
projector` processes on one database split the partitions; when one is SIGKILLed the other
follows every partition within 10 s, and `risiti replay --check` finds no difference."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.caller import Caller
from risiti.commands.invoices import CreateInvoice, RecordPayment, create_invoice, record_payment
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.domain.invoice import InvoiceDraft
from risiti.eventstore.subscription import account_partition

from .conftest import wait_until
from .operator_runs import operator_env, replay_check

pytestmark = pytest.mark.asyncio

PARTITIONS = 4
FOLLOWERS = ("dispatcher", "projection:balances", "projection:invoice_list")
TAKE_OVER_SECONDS = 10
PARTITION_LOCK = 7_261_842  # eventstore/partitions.py


async def test_the_account_partition_is_the_same_in_sql_and_python(pool: asyncpg.Pool) -> None:
    accounts = [uuid4() for _ in range(200)] + [UUID(int=0), UUID(int=(1 << 128) - 1)]
    for partitions in (1, 2, 3, 4, 7, 16):
        rows = await pool.fetch(
            "SELECT a, risiti_account_partition(a, $2) AS k FROM unnest($1::uuid[]) AS a",
            accounts,
            partitions,
        )
        assert {row["a"]: row["k"] for row in rows} == {
            a: account_partition(a, partitions) for a in accounts
        }
    assert await pool.fetchval("SELECT risiti_account_partition(NULL, 4)") == 0
    assert account_partition(None, 4) == 0
    # Spread: every partition gets some of 200 random accounts.
    assert {account_partition(a, PARTITIONS) for a in accounts} == set(range(PARTITIONS))


def _env(settings: Settings) -> dict[str, str]:
    return operator_env(
        settings, RISITI_PROJECTOR_PARTITIONS=str(PARTITIONS), RISITI_PROJECTOR_METRICS_PORT="0"
    )


def _start_projector(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "risiti.cli", "projector"],
            env=_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


async def _partitions_by_process(pool: asyncpg.Pool) -> dict[int, set[int]]:
    """The partitions each backend holds the advisory lock of, by its pid."""
    rows = await pool.fetch(
        "SELECT pid, objid::int AS k FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = $1 AND objsubid = 2"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        PARTITION_LOCK,
    )
    held: dict[int, set[int]] = {}
    for row in rows:
        held.setdefault(row["pid"], set()).add(row["k"])
    return held


async def _caught_up(pool: asyncpg.Pool) -> bool:
    """Whether every follower's row of every partition has applied all that is visible."""
    behind: int = await pool.fetchval(
        "SELECT count(*) FROM log_positions p JOIN events e"
        " ON (e.transaction_id, e.position) > (p.transaction_id, p.position)"
        " AND risiti_account_partition(e.account_id, p.partition_count) = p.partition_index"
        " WHERE split_part(p.follower, '@', 1) = ANY($1) AND p.partition_count = $2"
        " AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())",
        list(FOLLOWERS),
        PARTITIONS,
    )
    rows: int = await pool.fetchval(
        "SELECT count(*) FROM log_positions WHERE partition_count = $1", PARTITIONS
    )
    return behind == 0 and rows == len(FOLLOWERS) * PARTITIONS


async def _write(ledger: Ledger, accounts: list[OpenedAccount], rounds: int) -> list[UUID]:
    created = []
    for round_ in range(rounds):
        for account in accounts:
            caller = Caller(account.account_id, False, "test")
            draft = InvoiceDraft(
                account_id=account.account_id,
                livemode=False,
                document_type="invoice",
                currency="NGN",
                customer={"name": f"Customer {round_}"},
                items=[{"description": "Work", "quantity": 1, "unit_price": 5000 + round_}],
                issue_date=datetime.now(UTC).date(),
                accept_partial_payments=True,
            )
            invoice = await create_invoice(ledger, CreateInvoice(caller, draft, finalize=True))
            await record_payment(ledger, RecordPayment(caller, invoice.id, amount=1000))
            created.append(invoice.id)
    return created


async def _listed(pool: asyncpg.Pool, invoice_ids: list[UUID]) -> bool:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM invoice_list WHERE id = ANY($1::uuid[]) AND amount_paid = 1000",
        invoice_ids,
    )
    return count == len(invoice_ids)


async def _replay_check(settings: Settings) -> tuple[int, str]:
    return await replay_check(_env(settings), timeout=90)


async def test_two_projectors_split_the_partitions_and_one_takes_over_when_the_other_dies(
    settings: Settings, ledger: Ledger, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    log = tmp_path / "projectors.log"
    accounts = [await open_account(ledger, f"Partitioned {i}") for i in range(12)]
    first = _start_projector(settings, log)
    second = _start_projector(settings, log)
    try:
        written = await _write(ledger, accounts, 3)

        async def split() -> dict[int, set[int]] | None:
            held = await _partitions_by_process(pool)
            sizes = sorted(len(parts) for parts in held.values())
            return held if sizes == [PARTITIONS // 2, PARTITIONS // 2] else None

        held = await wait_until(split, timeout=60, interval=0.1)
        assert set().union(*held.values()) == set(range(PARTITIONS))
        await wait_until(lambda: _caught_up(pool), timeout=60, interval=0.1)
        assert await _listed(pool, written)

        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 10)
        killed_at = time.monotonic()

        async def all_in_one() -> bool:
            held = await _partitions_by_process(pool)
            return [len(parts) for parts in held.values()] == [PARTITIONS]

        await wait_until(all_in_one, timeout=TAKE_OVER_SECONDS, interval=0.1)
        assert time.monotonic() - killed_at < TAKE_OVER_SECONDS
        assert second.poll() is None, log.read_text(errors="replace")[-3000:]

        written += await _write(ledger, accounts, 2)
        await wait_until(lambda: _caught_up(pool), timeout=60, interval=0.1)
        assert await _listed(pool, written)

        code, output = await _replay_check(settings)
        assert code == 0, output
        assert "no difference" in output, output
    finally:
        for projector in (first, second):
            if projector.poll() is None:
                projector.send_signal(signal.SIGTERM)
            await asyncio.to_thread(projector.wait, 10)
