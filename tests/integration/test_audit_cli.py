"""`risiti verify`, `risiti export` and `risiti history` as an auditor runs them, and the
standalone script of docs/auditing.md run on an export (docs/auditing.md).

Each tampering test alters the log as an attacker with database access would, runs
`risiti verify` in a process of its own, and puts the log back as it was afterwards, so that
the other tests of the run (which share the database) see an intact log.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.eventstore.checkpoints import read_checkpoints, record_checkpoints

from .checkpointing import checkpoint_through
from .conftest import KREDO_INVOICE, Api
from .http_calls import call

DOCS = Path(__file__).parents[2] / "docs" / "auditing.md"
PROGRESS = re.compile(r"^verify: [\d,]+/[\d,]+ events \(100 %\)$", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


async def _run(settings: Settings, *args: str) -> Run:
    """A command in a process of its own; this event loop keeps running meanwhile."""
    env = {
        **os.environ,
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
    }
    process = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


async def _risiti(settings: Settings, *args: str) -> Run:
    return await _run(settings, sys.executable, "-m", "risiti.cli", *args)


async def _paid_in_two_steps(api: Api) -> UUID:
    created = await call(
        api, "POST", "/v1/invoices", {**KREDO_INVOICE, "accept_partial_payments": True}
    )
    assert created.status == 201, created.body
    for amount in (100000, 150000):
        paid = await call(
            api, "POST", f"/v1/invoices/{created.data['id']}/payments", {"amount": amount}
        )
        assert paid.status == 201, paid.body
    return UUID(created.data["id"])


async def _checkpointed_invoice(api: Api, pool: asyncpg.Pool) -> UUID:
    """An invoice of four events, covered by a checkpoint."""
    invoice_id = await _paid_in_two_steps(api)
    await checkpoint_through(pool, invoice_id)
    return invoice_id


@contextlib.asynccontextmanager
async def _restored(pool: asyncpg.Pool, invoice_id: UUID) -> AsyncIterator[None]:
    """Whatever the block does to the invoice's events, they are as they were after it."""
    rows = await pool.fetch("SELECT * FROM events WHERE originator_id = $1", invoice_id)
    try:
        yield
    finally:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM events WHERE originator_id = $1", invoice_id)
            columns = list(rows[0].keys())
            await conn.executemany(
                f"INSERT INTO events ({', '.join(columns)})"
                f" VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})",
                [tuple(row.values()) for row in rows],
            )


async def _position(pool: asyncpg.Pool, invoice_id: UUID, version: int) -> int:
    position: int = await pool.fetchval(
        "SELECT position FROM events WHERE originator_id = $1 AND originator_version = $2",
        invoice_id,
        version,
    )
    return position


async def _checkpoints_of(pool: asyncpg.Pool, account: OpenedAccount) -> tuple[int, int]:
    """How many checkpoints the account has, and how many events they cover."""
    row = await pool.fetchrow(
        "SELECT count(*), coalesce(sum(event_count), 0) FROM audit_checkpoints"
        " WHERE account_id = $1",
        account.account_id,
    )
    return row[0], row[1]


def _docs_script() -> str:
    found = re.search(r"```python\n(#!/usr/bin/env python3\n.*?)```", DOCS.read_text(), re.S)
    assert found, "docs/auditing.md has no standalone script"
    return found.group(1)


# --- verify ---------------------------------------------------------------------------------


def test_verify_help_explains_what_it_recomputes_and_its_exit_codes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "risiti.cli", "verify", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for phrase in ("--account ID", "--since POS", "exits 0 on an intact log", "first broken"):
        assert phrase in text, phrase


async def test_verify_passes_on_an_intact_log(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    await _checkpointed_invoice(api, pool)
    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)  # after the last checkpoint

    whole = await _risiti(settings, "verify")
    one = await _risiti(settings, "verify", "--account", str(account.account_id))

    assert whole.returncode == 0, whole
    assert whole.stdout.startswith("intact:"), whole.stdout
    assert PROGRESS.search(whole.stderr), whole.stderr
    assert one.returncode == 0, one
    events = await pool.fetchval(
        "SELECT count(*) FROM events WHERE account_id = $1", account.account_id
    )
    checkpoints, covered = await _checkpoints_of(pool, account)
    tail = events - covered
    assert tail == 2  # the second invoice
    assert f"intact: {events} events, {checkpoints} checkpoints ({tail} events after" in one.stdout


async def test_a_backlog_is_checkpointed_in_ranges_that_follow_one_another_and_verify(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    await record_checkpoints(pool)  # what earlier tests left, at the usual range size
    before, _ = await _checkpoints_of(pool, account)
    invoice_id = await _paid_in_two_steps(api)

    await checkpoint_through(pool, invoice_id, limit=3)

    checkpoints = await read_checkpoints(pool, account.account_id)
    new = checkpoints[before:]
    assert len(new) >= 2  # the invoice's events and its customer's, three at most a range
    assert all(c.event_count <= 3 for c in new)
    for earlier, later in itertools.pairwise(checkpoints):
        assert earlier.up_to <= later.after
        assert later.previous_root == earlier.root
    run = await _risiti(settings, "verify", "--account", str(account.account_id))
    assert run.returncode == 0, run
    assert f"{len(checkpoints)} checkpoints" in run.stdout


async def test_verify_fails_naming_an_event_whose_state_was_updated(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    invoice_id = await _checkpointed_invoice(api, pool)
    position = await _position(pool, invoice_id, 3)

    async with _restored(pool, invoice_id):
        await pool.execute(
            "UPDATE events SET state = convert_to("
            "  replace(convert_from(state, 'UTF8'), '100000', '10000'), 'UTF8')"
            " WHERE position = $1",
            position,
        )
        run = await _risiti(settings, "verify", "--account", str(account.account_id))

    assert run.returncode == 1, run
    first = run.stdout.splitlines()[0]
    assert first.startswith(f"BROKEN: aggregate {invoice_id} version 3 at position {position}")
    assert "altered" in first


async def test_verify_fails_naming_what_follows_a_deleted_event(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    invoice_id = await _checkpointed_invoice(api, pool)
    following = await _position(pool, invoice_id, 4)

    async with _restored(pool, invoice_id):
        await pool.execute(
            "DELETE FROM events WHERE originator_id = $1 AND originator_version = 3", invoice_id
        )
        run = await _risiti(settings, "verify", "--account", str(account.account_id))

    assert run.returncode == 1, run
    assert run.stdout.splitlines()[0] == (
        f"BROKEN: aggregate {invoice_id} version 4 at position {following}:"
        " version 3 before it is missing (deleted event)"
    )


async def test_verify_fails_naming_an_invoice_whose_every_event_was_deleted(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    invoice_id = await _checkpointed_invoice(api, pool)
    last = await _position(pool, invoice_id, 4)

    async with _restored(pool, invoice_id):
        await pool.execute("DELETE FROM events WHERE originator_id = $1", invoice_id)
        run = await _risiti(settings, "verify")

    assert run.returncode == 1, run
    first = run.stdout.splitlines()[0]
    # Version 4, or an earlier one where a checkpoint covered only the start of the invoice.
    assert re.match(rf"BROKEN: aggregate {invoice_id} version \d at position \d+, recorded", first)
    assert "every event of the aggregate is gone (deleted aggregate)" in first
    assert f"version 4 at position {last}, recorded by" in run.stdout


async def test_verify_fails_naming_an_event_moved_in_the_log(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    invoice_id = await _checkpointed_invoice(api, pool)
    third, fourth = await _position(pool, invoice_id, 3), await _position(pool, invoice_id, 4)

    async with _restored(pool, invoice_id):
        async with pool.acquire() as conn, conn.transaction():
            # Swap the two payments' places in the log, keeping their versions and hashes.
            await conn.execute("UPDATE events SET position = -1 WHERE position = $1", third)
            await conn.execute("UPDATE events SET position = $1 WHERE position = $2", third, fourth)
            await conn.execute("UPDATE events SET position = $1 WHERE position = -1", fourth)
        run = await _risiti(settings, "verify", "--account", str(account.account_id))

    assert run.returncode == 1, run
    first = run.stdout.splitlines()[0]
    assert first.startswith(f"BROKEN: aggregate {invoice_id} version "), first
    assert "(moved event)" in first
    assert f"version 4 at position {fourth}, recorded by" in run.stdout


async def test_verify_since_a_position_starts_at_its_checkpoint_range(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    invoice_id = await _checkpointed_invoice(api, pool)
    later = await _paid_in_two_steps(api)
    await checkpoint_through(pool, later)
    since = await _position(pool, later, 1)

    run = await _risiti(
        settings, "verify", "--account", str(account.account_id), "--since", str(since)
    )

    assert run.returncode == 0, run
    verified = int(re.findall(r"(\d+) checkpoints", run.stdout)[0])
    assert 1 <= verified < (await _checkpoints_of(pool, account))[0]  # not those before `since`
    assert await _position(pool, invoice_id, 4) < since


# --- export and the standalone script ---------------------------------------------------------


async def test_the_docs_script_verifies_an_export_and_rejects_an_edited_one(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    invoice_id = await _checkpointed_invoice(api, pool)
    script = tmp_path / "verify_export.py"
    script.write_text(_docs_script())
    exported = await _risiti(settings, "export", "--account", str(account.account_id))
    assert exported.returncode == 0, exported
    export = tmp_path / "account.jsonl"
    export.write_text(exported.stdout)

    intact = await _run(settings, sys.executable, "-I", str(script), str(export))

    assert intact.returncode == 0, intact
    assert intact.stdout.startswith("OK: "), intact.stdout
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert lines[0]["kind"] == "export"
    exported_checkpoints = [line["kind"] for line in lines[1:]].count("checkpoint")
    assert exported_checkpoints == (await _checkpoints_of(pool, account))[0]

    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join(json.dumps(_halve_a_payment(line, invoice_id)) for line in lines))
    rejected = await _run(settings, sys.executable, "-I", str(script), str(edited))

    assert rejected.returncode == 1, rejected
    assert f"aggregate {invoice_id} version 3" in rejected.stdout
    assert "hash does not match" in rejected.stdout


def _halve_a_payment(line: dict[str, Any], invoice_id: UUID) -> dict[str, Any]:
    if line.get("originator_id") != str(invoice_id) or line.get("originator_version") != 3:
        return line
    state = base64.b64decode(line["state"]).replace(b"100000", b"50000")
    return {**line, "state": base64.b64encode(state).decode()}


async def test_the_docs_script_rejects_an_export_missing_a_whole_invoice(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    invoice_id = await _checkpointed_invoice(api, pool)
    script = tmp_path / "verify_export.py"
    script.write_text(_docs_script())
    exported = await _risiti(settings, "export", "--account", str(account.account_id))
    kept = [line for line in exported.stdout.splitlines() if str(invoice_id) not in line]
    export = tmp_path / "without.jsonl"
    export.write_text("\n".join(kept))

    run = await _run(settings, sys.executable, "-I", str(script), str(export))

    assert run.returncode == 1, run
    assert re.search(r"checkpoint \d+: its root does not match the events it covers", run.stdout)


async def test_an_export_from_an_instant_on_verifies_from_there_with_its_whole_checkpoints(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    earlier = await _checkpointed_invoice(api, pool)
    since = await pool.fetchval("SELECT clock_timestamp()")
    later = await _checkpointed_invoice(api, pool)
    script = tmp_path / "verify_export.py"
    script.write_text(_docs_script())

    exported = await _risiti(
        settings, "export", "--account", str(account.account_id), "--from", since.isoformat()
    )
    export = tmp_path / "since.jsonl"
    export.write_text(exported.stdout)
    run = await _run(settings, sys.executable, "-I", str(script), str(export))

    assert exported.returncode == 0, exported
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert lines[0]["from"] == since.isoformat()
    invoices = {line["originator_id"] for line in lines if line["kind"] == "event"}
    assert str(later) in invoices and str(earlier) not in invoices
    assert any(line["kind"] == "checkpoint" for line in lines)
    assert run.returncode == 0, run
    assert run.stdout.startswith("OK: ")


async def test_a_csv_export_has_one_row_per_event_with_its_hashes(
    settings: Settings, api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    await _paid_in_two_steps(api)

    run = await _risiti(settings, "export", "--account", str(account.account_id), "--format", "csv")

    assert run.returncode == 0, run
    rows = run.stdout.splitlines()
    assert rows[0].startswith("position,transaction_id,originator_id,originator_version,topic")
    events = await pool.fetchval(
        "SELECT count(*) FROM events WHERE account_id = $1", account.account_id
    )
    assert len(rows) == 1 + events


# --- history ----------------------------------------------------------------------------------


async def test_history_tells_the_story_of_one_invoice(
    settings: Settings, api: Api, account: OpenedAccount
) -> None:
    await _paid_in_two_steps(api)

    run = await _risiti(settings, "history", "INV-2026-0001", "--account", str(account.account_id))

    assert run.returncode == 0, run
    lines = run.stdout.splitlines()
    assert lines[0].startswith("INV-2026-0001  invoice ")
    kinds = [line.split()[4] for line in lines[1:] if line.startswith("v")]
    assert kinds == ["Created", "Finalized", "PaymentRecorded", "PaymentRecorded"]
    assert "status partially_paid, paid 100000 of 250000 NGN, due 150000" in run.stdout
    assert "status paid, paid 250000 of 250000 NGN, due 0" in run.stdout
    assert " by key_test_" in run.stdout


async def test_history_of_a_number_several_accounts_use_asks_which(
    settings: Settings, api: Api, http: Any, ledger: Ledger
) -> None:
    other = Api(http, (await open_account(ledger, "Other Business")).test_key)
    await _paid_in_two_steps(api)
    await _paid_in_two_steps(other)  # its own INV-2026-0001

    run = await _risiti(settings, "history", "INV-2026-0001")

    assert run.returncode == 1, run
    assert "name the account" in run.stderr
