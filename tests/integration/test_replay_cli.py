"""`risiti replay [NAME…] [--check]` as an operator runs it (issue 4, DESIGN.md §8): it rebuilds
the read models from the log, swaps them in, and with --check says whether the live ones differ
from a rebuild."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from risiti.config import Settings

from .conftest import KREDO_INVOICE, Api, wait_until
from .http_calls import call

NO_DIFFERENCE = "no difference"
PROGRESS = re.compile(r"^replay: [\d,]+/[\d,]+ events \(100 %\)$", re.MULTILINE)
SUMMARY = re.compile(r"replayed (\d+) events into ([\w, ]+) in [\d.]+ s: [\d,]+ events/s")


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    def summary(self) -> tuple[int, list[str]]:
        """The final line of stderr: how many events were replayed, into which projections."""
        found = SUMMARY.search(self.stderr)
        assert found, self.stderr
        return int(found.group(1)), found.group(2).split(", ")

    def replayed_into(self) -> list[str]:
        return self.summary()[1]


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
    }


async def _risiti(settings: Settings, *args: str) -> Run:
    """`risiti …` in a process of its own; this event loop (and the projector) keeps running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "risiti.cli",
        *args,
        env=_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


async def _invoices(api: Api, count: int) -> list[dict[str, Any]]:
    """Invoices in several states, so that every table has rows of this account: partly paid,
    open, and (every third) open and amended."""
    created = []
    for index in range(count):
        answer = await call(
            api, "POST", "/v1/invoices", {**KREDO_INVOICE, "accept_partial_payments": True}
        )
        assert answer.status == 201, answer.body
        if index % 2:
            paid = await call(
                api, "POST", f"/v1/invoices/{answer.data['id']}/payments", {"amount": 1000}
            )
            assert paid.status == 201, paid.body
        elif index % 3 == 2:
            more = [*KREDO_INVOICE["items"], {"description": "Support", "qty": 2, "price": 500}]
            amended = await call(api, "PATCH", f"/v1/invoices/{answer.data['id']}", {"items": more})
            assert amended.status == 200, amended.body
        created.append(answer.data)
    return created


async def _caught_up(pool: asyncpg.Pool) -> None:
    """Wait until both projections applied the whole log."""

    async def done() -> bool:
        behind: int = await pool.fetchval(
            "SELECT count(*) FROM (VALUES ('projection:invoice_list'), ('projection:balances'))"
            " AS f(name) LEFT JOIN log_positions p ON p.follower = f.name"
            " WHERE p.follower IS NULL OR (p.transaction_id, p.position) < (SELECT transaction_id,"
            "   position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1)"
        )
        return behind == 0

    await wait_until(done, timeout=15)


def _differing_tables(run: Run) -> list[str]:
    return re.findall(r"^(\w+) differs from the log:$", run.stdout, flags=re.MULTILINE)


# --- The command line -----------------------------------------------------------------------


def test_replay_help_explains_rebuilding_swapping_and_checking() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "risiti.cli", "replay", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert text.startswith("usage: risiti replay [-h] [--check] [NAME ...]")
    for phrase in ("position zero", "swap", "events/s", "--check", "invoice_list, balances"):
        assert phrase in text, phrase


async def test_replay_of_an_unknown_projection_exits_2_naming_it_and_the_known_ones(
    settings: Settings,
) -> None:
    run = await _risiti(settings, "replay", "invoice_list", "nosuch")

    assert run.returncode == 2, run
    assert "no projection named nosuch" in run.stderr
    assert "known projections: invoice_list, balances" in run.stderr
    assert run.stdout == ""


# --- Check and swap -------------------------------------------------------------------------


async def test_replay_check_reports_no_difference_once_the_projector_caught_up(
    settings: Settings, api: Api, pool: asyncpg.Pool, projector: None
) -> None:
    await _invoices(api, 4)
    await _caught_up(pool)

    run = await _risiti(settings, "replay", "--check")

    assert run.returncode == 0, (run.stdout, run.stderr)
    assert NO_DIFFERENCE in run.stdout
    assert _differing_tables(run) == []
    assert PROGRESS.search(run.stderr), run.stderr
    assert run.replayed_into() == ["invoice_list", "balances"]
    replayed, _ = run.summary()
    assert 0 < replayed <= await pool.fetchval("SELECT count(*) FROM events")


async def test_replay_check_lists_a_corrupted_invoice_list_row_and_replay_repairs_it(
    settings: Settings, api: Api, pool: asyncpg.Pool, projector: None
) -> None:
    invoices = await _invoices(api, 3)
    victim = UUID(invoices[1]["id"])
    await _caught_up(pool)
    total = await pool.fetchval("SELECT total FROM invoice_list WHERE id = $1", victim)
    await pool.execute("UPDATE invoice_list SET total = total + 1 WHERE id = $1", victim)

    check = await _risiti(settings, "replay", "--check")

    assert check.returncode == 1, (check.stdout, check.stderr)
    assert _differing_tables(check) == ["invoice_list"]
    assert NO_DIFFERENCE not in check.stdout
    rows = [line.strip() for line in check.stdout.splitlines() if str(victim) in line]
    assert [row.split(": ", 1)[0] for row in rows] == ["only live", "only replayed"], rows
    live, replayed = (json.loads(row.split(": ", 1)[1]) for row in rows)
    assert (live["total"], replayed["total"]) == (total + 1, total)
    assert {k: v for k, v in live.items() if k != "total"} == {
        k: v for k, v in replayed.items() if k != "total"
    }
    assert await pool.fetchval("SELECT total FROM invoice_list WHERE id = $1", victim) == total + 1

    swap = await _risiti(settings, "replay")

    assert swap.returncode == 0, (swap.stdout, swap.stderr)
    assert swap.replayed_into() == ["invoice_list", "balances"]
    assert await pool.fetchval("SELECT total FROM invoice_list WHERE id = $1", victim) == total
    answer = await call(api, "GET", "/v1/invoices?limit=100")
    assert {i["id"]: i["total"] for i in answer.data}[str(victim)] == total

    again = await _risiti(settings, "replay", "--check")

    assert again.returncode == 0, (again.stdout, again.stderr)
    assert NO_DIFFERENCE in again.stdout


async def test_replay_of_one_projection_checks_and_rebuilds_only_its_tables(
    settings: Settings, api: Api, pool: asyncpg.Pool, projector: None
) -> None:
    await _invoices(api, 2)
    await _caught_up(pool)
    account_id = await pool.fetchval(
        "SELECT account_id FROM invoice_list WHERE id = $1",
        UUID((await call(api, "GET", "/v1/invoices?limit=1")).data[0]["id"]),
    )
    corrupt = "UPDATE balances SET paid = paid + 7 WHERE account_id = $1 AND customer_id IS NULL"
    await pool.execute(corrupt, account_id)

    other = await _risiti(settings, "replay", "invoice_list", "--check")
    check = await _risiti(settings, "replay", "balances", "--check")
    swap = await _risiti(settings, "replay", "balances")
    again = await _risiti(settings, "replay", "--check")

    assert (other.returncode, other.replayed_into()) == (0, ["invoice_list"]), other
    assert (check.returncode, check.replayed_into()) == (1, ["balances"]), check
    assert _differing_tables(check) == ["balances"]
    assert str(account_id) in check.stdout
    assert (swap.returncode, swap.replayed_into()) == (0, ["balances"]), swap
    assert again.returncode == 0, (again.stdout, again.stderr)


async def test_replay_while_the_projector_runs_loses_no_new_event(
    settings: Settings, api: Api, pool: asyncpg.Pool, projector: None
) -> None:
    written = await _invoices(api, 2)
    replaying = asyncio.create_task(_risiti(settings, "replay"))
    while not replaying.done():
        written += await _invoices(api, 1)
        await asyncio.sleep(0.05)
    swap = await replaying
    await _caught_up(pool)

    answer = await call(api, "GET", "/v1/invoices?limit=100")
    check = await _risiti(settings, "replay", "--check")

    assert swap.returncode == 0, (swap.stdout, swap.stderr)
    assert sorted(i["id"] for i in answer.data) == sorted(i["id"] for i in written)
    assert check.returncode == 0, (check.stdout, check.stderr)


async def test_replay_check_finds_no_difference_after_a_draft_changed_currency_between_batches(
    settings: Settings, api: Api, pool: asyncpg.Pool, projector: None
) -> None:
    answer = await call(api, "POST", "/v1/invoices", {**KREDO_INVOICE, "status": "draft"})
    assert answer.status == 201, answer.body
    await _caught_up(pool)  # the projector applies the draft in NGN in one batch…
    patched = await call(api, "PATCH", f"/v1/invoices/{answer.data['id']}", {"currency": "USD"})
    assert patched.status == 200, patched.body
    await _caught_up(pool)  # …and its change to USD in another; a replay sees both in one

    check = await _risiti(settings, "replay", "--check")

    assert check.returncode == 0, check.stdout
    assert NO_DIFFERENCE in check.stdout
