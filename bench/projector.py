"""The live projector following a long log: events per second, and the memory it holds.

What it measures: `risiti projector`, started as a user starts it, on a fresh
`risiti_bench_<hex>` database holding bench/read.py's log (100 000 invoices by default: drafts,
open, partly paid and paid, 1 000 customers). From its start until its three followers
(`invoice_list`, `balances`, the dispatcher, which also writes every public event to the
account's feed) have applied the whole log: events per second, and the process's peak and final
resident set, which `RISITI_PROJECTOR_AGGREGATES` bounds (the aggregates it keeps folded).

The reference, in the same run, on the same database: the eventsourcing library's PostgreSQL
recorder reading the same log with `select_notifications` and folding it into aggregates with
the same mapper, writing nothing (bench/read.py's reference). `ratio` is the projector's events
per second over the library's: what following the log live, with every row written and every
position moved in its transaction, costs beyond reading and folding it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import psutil

from common import bounded, failing_clearly, open_bench_accounts, scratch_servers
from read import customers, generate_log, run_reference_follow
from risiti.cli import ProgressLine

FOLLOWERS = ["projection:invoice_list", "projection:balances", "dispatcher"]
POLL_SECONDS = 0.2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000, help="(default 100000)")
    parser.add_argument("--customers", type=int, default=1_000, help="(default 1000)")
    parser.add_argument(
        "--aggregates",
        type=int,
        help="RISITI_PROJECTOR_AGGREGATES for the projector (default: its own default)",
    )
    return parser.parse_args()


def start_projector(
    database_url: str, redis_url: str, home: str, aggregates: int | None
) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "RISITI_DATABASE_URL": database_url,
        "RISITI_REDIS_URL": redis_url,
        "RISITI_HOME": home,
    }
    if aggregates is not None:
        env["RISITI_PROJECTOR_AGGREGATES"] = str(aggregates)
    # The child keeps its own copy of the file's descriptor.
    with Path(home, "projector.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "risiti.cli", "projector"], env=env, stdout=log, stderr=log
        )


async def caught_up(conn: asyncpg.Connection) -> tuple[int, int]:
    """(the least position the projector's followers have reached, the log's last position)."""
    row = await conn.fetchrow(
        "SELECT (SELECT coalesce(min(position), 0) FROM log_positions WHERE follower = ANY($1)"
        "   AND (SELECT count(*) FROM log_positions WHERE follower = ANY($1)) = $2) AS reached,"
        " (SELECT max(position) FROM events) AS last",
        FOLLOWERS,
        len(FOLLOWERS),
    )
    assert row is not None
    return int(row["reached"]), int(row["last"] or 0)


def resident(process: psutil.Process) -> tuple[int, int]:
    """(peak, current) resident set of the process in bytes (VmHWM, VmRSS)."""
    fields = {}
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0]) * 1024
    return fields.get("VmHWM", 0), fields.get("VmRSS", 0)


async def follow(database_url: str, projector: subprocess.Popen[bytes]) -> float:
    """Seconds from the projector's start until its followers reached the log's end."""
    started = time.perf_counter()
    progress = ProgressLine("projector")
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            if projector.poll() is not None:
                raise RuntimeError(f"the projector exited with code {projector.returncode}")
            reached, last = await caught_up(conn)
            progress(reached, last)
            if last and reached >= last:
                break
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await conn.close()
    print(file=sys.stderr)
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    thousands = args.invoices / 1000
    with failing_clearly(), scratch_servers() as (database_url, redis_url):
        with bounded("preparing the account", 120):
            [account] = asyncio.run(open_bench_accounts(database_url, ["Bench Traders"]))
        people = customers(args.customers)
        with bounded("generating the log", 120 + 3 * thousands):
            stored = asyncio.run(
                generate_log(database_url, account.account_id, args.invoices, people)
            )
        with tempfile.TemporaryDirectory() as home:
            projector = start_projector(database_url, redis_url, home, args.aggregates)
            try:
                with bounded("the projector following the log", 120 + 3 * thousands):
                    seconds = asyncio.run(follow(database_url, projector))
                peak, current = resident(psutil.Process(projector.pid))
            finally:
                projector.terminate()
                projector.wait(timeout=30)
        with bounded("the eventsourcing recorder's reference", 120 + 3 * thousands):
            reference = run_reference_follow(database_url, stored)
    ours = len(stored) / seconds
    aggregates = args.aggregates or "default"
    print(
        f"\nbench/projector.py: {len(stored)} events ({args.invoices} invoices)"
        f"\nrisiti projector: {ours:,.0f} events/s ({seconds:.1f} s from its start, three"
        f" followers written); RSS peak {peak / 2**20:.0f} MB, at the end {current / 2**20:.0f} MB"
        f" (RISITI_PROJECTOR_AGGREGATES: {aggregates})"
        f"\neventsourcing recorder read and folded {reference:,.0f} events/s"
        f"\nratio: {ours / reference:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
