"""`risiti verify` over a log of 200 000 events: events per second, against reading the same rows.

What it measures:
- `verify_log` over the whole log (every chain hash recomputed from its predecessor's, every
  checkpoint root recomputed), progress shown, in events per second and seconds;
- `risiti checkpoint`'s work on the same log (`record_checkpoints`), for the record.

The reference, measured in the same run on the same database because absolute figures drift
with the machine and whatever else runs on it: the very rows verify reads (each event with its
predecessor's hash, the same batches and order) fetched through asyncpg and nothing done with
them. The ratio says what recomputing the hashes adds to reading the log.

The log is generated directly through the domain and the recorder, as bench/read.py does
(invoices in every status: drafts, open, partly paid and paid; 2.2 events an invoice),
into a fresh `risiti_bench_<hex>` database that is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from uuid import uuid4

import asyncpg

from common import bounded, failing_clearly, scratch_database
from read import customers, generate_log
from risiti.cli import ProgressLine
from risiti.eventstore.checkpoints import record_checkpoints
from risiti.eventstore.migrations import migrate
from risiti.eventstore.recorder import LOG_START, LogPosition
from risiti.eventstore.verification import BATCH, EVENT_ROWS, verify_log

LIMIT_SECONDS = 60.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, default=200_000, help="at least this many events (default 200000)"
    )
    return parser.parse_args()


async def build(url: str, wanted_events: int) -> int:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    # bench/read.py's mix averages 2.2 events an invoice: two tenths drafts (1 event), four
    # tenths open (2), four tenths paid in part or whole (3).
    invoices = int(wanted_events / 2.2) + 1
    await generate_log(url, uuid4(), invoices, customers(1_000))
    conn = await asyncpg.connect(url)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM events")
    finally:
        await conn.close()
    return count


async def checkpoint(url: str) -> float:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        started = time.perf_counter()
        made = await record_checkpoints(pool)
        seconds = time.perf_counter() - started
    finally:
        await pool.close()
    print(f"checkpoint: {len(made)} checkpoints in {seconds:.1f} s", file=sys.stderr)
    return seconds


async def verify(url: str) -> tuple[int, float, bool]:
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        result = await verify_log(conn, progress=ProgressLine("verify"))
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    print(file=sys.stderr)
    return result.events, seconds, result.intact


async def read_only(url: str, total: int) -> float:
    """The rows verify reads, in its batches and order, fetched and dropped."""
    conn = await asyncpg.connect(url)
    progress = ProgressLine("read  ")
    try:
        started = time.perf_counter()
        after, done = LOG_START, 0
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            while rows := await conn.fetch(
                EVENT_ROWS, after.transaction_id, after.position, None, BATCH
            ):
                done += len(rows)
                after = LogPosition(rows[-1]["transaction_id"], rows[-1]["position"])
                progress(done, total)
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    print(file=sys.stderr)
    return seconds


def main() -> None:
    args = parse_args()
    # Minutes more than each phase takes on the 2-core machine.
    thousands = args.events / 1000
    with failing_clearly(), scratch_database() as url:
        with bounded("building the log", 120 + thousands):
            total = asyncio.run(build(url, args.events))
        with bounded("the checkpoint", 120 + thousands):
            asyncio.run(checkpoint(url))
        with bounded("the plain read (reference)", 120 + thousands):
            reference = asyncio.run(read_only(url, total))
        with bounded("risiti verify", 120 + thousands):
            events, seconds, intact = asyncio.run(verify(url))
    rate = events / seconds
    print(f"events in the log:        {events:,}")
    print(f"risiti verify:            {seconds:.1f} s, {rate:,.0f} events/s, intact={intact}")
    print(f"reading the same rows:    {reference:.1f} s, {events / reference:,.0f} events/s")
    print(f"verify / plain read time: {seconds / reference:.2f}x")
    verdict = "under" if seconds < LIMIT_SECONDS else "OVER"
    print(f"{verdict} the {LIMIT_SECONDS:.0f} s limit for {events:,} events")
    if not intact:
        raise SystemExit("the generated log did not verify")


if __name__ == "__main__":
    main()
