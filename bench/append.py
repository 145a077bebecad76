"""Append throughput: Risiti's asyncpg event recorder against eventsourcing's PostgreSQL recorder.

What it measures: how many "invoice creations" per second each recorder commits when many writers
append at once. One command is one transaction holding the two events of an invoice created and
finalized (`Created`, `Finalized`) of a new aggregate. Risiti runs N asyncio writers on an asyncpg
pool of N, each opening a transaction, calling `append_events` and committing; the reference,
`eventsourcing.postgres.PostgresApplicationRecorder`, runs N threads on a psycopg pool of N, each
calling `insert_events`. Both write the same payloads (encoded once by Risiti's mapper) under a new
uuid4 per command, so neither pays for building events and the comparison is of recorders only.

Why the reference runs in the same run, on the same database: absolute figures depend on the
machine, the disk's fsync latency, the server's settings and whatever else is running; only the
ratio of two recorders measured side by side, minutes apart, on one server, says something that
holds from one machine to another. Each contender gets a fresh table and a checkpoint first.

The database is a fresh `risiti_bench_<hex>` on the server of RISITI_DATABASE_URL (or of the
embedded server when it is unset), migrated with Risiti's migrations and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import uuid4

import asyncpg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from common import bounded, failing_clearly, psycopg_params, scratch_database
from risiti.config import Settings
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.eventstore.database import server_settings
from risiti.eventstore.mapper import create_mapper
from risiti.eventstore.migrations import migrate
from risiti.eventstore.recorder import append_events, notify_appended

ES_TABLE = "bench_es_events"
ACCOUNT_ID = uuid4()


@dataclass(frozen=True)
class Template:
    """The encoded events of one invoice creation; each command reuses them under a new id."""

    events: tuple[StoredEvent, ...]

    def command(self) -> list[StoredEvent]:
        """A new aggregate's events: a fresh uuid4, versions 1, 2, ..."""
        originator_id = uuid4()
        return [
            StoredEvent(originator_id, version, e.topic, e.state)
            for version, e in enumerate(self.events, start=1)
        ]


@dataclass(frozen=True)
class Result:
    name: str
    commands: int
    events_per_command: int
    elapsed: float

    @property
    def commands_per_second(self) -> float:
        return self.commands / self.elapsed

    @property
    def events_per_second(self) -> float:
        return self.commands * self.events_per_command / self.elapsed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--writers",
        type=int,
        default=16,
        help="concurrent writers per contender: asyncio tasks on an asyncpg pool of this size "
        "for Risiti, threads on a psycopg pool of this size for eventsourcing (default 16)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="how long each contender appends, one after the other (default 10)",
    )
    parser.add_argument(
        "--events-per-command",
        type=int,
        default=2,
        choices=[2],
        help="events per transaction: an invoice Created and Finalized (fixed at 2)",
    )
    return parser.parse_args()


def build_template() -> Template:
    """Encode an invoice's Created and Finalized events once, as Risiti's commands would."""
    draft = InvoiceDraft(
        account_id=ACCOUNT_ID,
        livemode=False,
        document_type="invoice",
        currency="KES",
        customer={
            "name": "Wanjiku Traders",
            "email": "accounts@example.com",
            "phone": None,
            "address": None,
        },
        items=[
            {
                "description": "Consulting",
                "quantity": "3",
                "unit_price": 250_000,
                "product_id": None,
                "taxes": [{"percentage": "16", "name": "VAT"}],
            },
            {
                "description": "Travel",
                "quantity": "1",
                "unit_price": 40_000,
                "product_id": None,
                "taxes": [],
            },
        ],
        issue_date=date(2026, 1, 15),
        due_date=date(2026, 2, 14),
    )
    invoice = Invoice.create(draft, view_token=secrets.token_urlsafe(24))
    invoice.finalize(document_number="INV-2026-0001", finalized_at=datetime.now(UTC))
    mapper = create_mapper()
    return Template(tuple(mapper.to_stored_event(e) for e in invoice.collect_events()))


# --- The database ----------------------------------------------------------------------------


async def prepare_database(url: str) -> None:
    """Apply Risiti's migrations to the benchmark database."""
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def checkpoint(url: str) -> None:
    """Flush dirty buffers so one contender's writes are not paid for by the next."""
    conn = await asyncpg.connect(url)
    try:
        with contextlib.suppress(asyncpg.PostgresError):
            await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


# --- Progress --------------------------------------------------------------------------------


def report(name: str, second: int, seconds: float, commands: int) -> None:
    print(f"{name:<14} {second:>3}/{seconds:g} s  {commands:>8} commands", flush=True)


# --- Risiti ----------------------------------------------------------------------------------


async def risiti_writer(
    pool: asyncpg.Pool, template: Template, counts: list[int], slot: int, deadline: float
) -> None:
    """Append invoice creations, one transaction each, until the deadline."""
    while time.monotonic() < deadline:
        async with pool.acquire() as conn:
            async with conn.transaction():
                await append_events(conn, template.command(), account_id=ACCOUNT_ID, livemode=False)
            await notify_appended(conn)
        counts[slot] += 1


async def risiti_progress(counts: list[int], start: float, seconds: float) -> None:
    for second in range(1, int(seconds) + 1):
        await asyncio.sleep(max(0.0, start + second - time.monotonic()))
        report("risiti", second, seconds, sum(counts))


async def run_risiti(url: str, writers: int, seconds: float, template: Template) -> Result:
    settings = server_settings(Settings(), "risiti-bench")
    pool = await asyncpg.create_pool(
        url, min_size=writers, max_size=writers, server_settings=settings
    )
    try:
        counts = [0] * writers
        start = time.monotonic()
        deadline = start + seconds
        progress = asyncio.create_task(risiti_progress(counts, start, seconds))
        try:
            await asyncio.gather(
                *(risiti_writer(pool, template, counts, i, deadline) for i in range(writers))
            )
            elapsed = time.monotonic() - start
            await progress
        finally:
            progress.cancel()
    finally:
        await pool.close()
    return Result("risiti", sum(counts), len(template.events), elapsed)


# --- eventsourcing ---------------------------------------------------------------------------


@contextlib.contextmanager
def es_recorder(url: str, writers: int) -> Iterator[PostgresApplicationRecorder]:
    """The reference recorder on its own table, its pool opened and filled before timing.

    The pool is opened here, once: with `pool_open_timeout` set, every `get_connection` would
    call psycopg_pool's `wait()`, which is not safe to call from several threads at once.
    """
    datastore = PostgresDatastore(**psycopg_params(url), pool_size=writers)
    try:
        datastore.pool.open(wait=True, timeout=30.0)
        recorder = PostgresApplicationRecorder(datastore, events_table_name=ES_TABLE)
        recorder.create_table()
        yield recorder
    finally:
        datastore.close()


@dataclass
class Threads:
    """Writer threads that count commands per slot and keep the first error they meet."""

    counts: list[int]
    errors: list[BaseException]
    threads: list[threading.Thread]

    @classmethod
    def start(cls, command: Callable[[], object], writers: int, deadline: float) -> Threads:
        running = cls([0] * writers, [], [])
        for slot in range(writers):
            thread = threading.Thread(target=running.loop, args=(command, slot, deadline))
            running.threads.append(thread)
            thread.start()
        return running

    def loop(self, command: Callable[[], object], slot: int, deadline: float) -> None:
        try:
            while time.monotonic() < deadline and not self.errors:
                command()
                self.counts[slot] += 1
        except BaseException as error:
            self.errors.append(error)

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
        if self.errors:
            raise self.errors[0]


def run_eventsourcing(url: str, writers: int, seconds: float, template: Template) -> Result:
    with es_recorder(url, writers) as recorder:
        start = time.monotonic()
        running = Threads.start(
            lambda: recorder.insert_events(template.command()), writers, start + seconds
        )
        for second in range(1, int(seconds) + 1):
            time.sleep(max(0.0, start + second - time.monotonic()))
            report("eventsourcing", second, seconds, sum(running.counts))
        running.join()
        elapsed = time.monotonic() - start
    return Result("eventsourcing", sum(running.counts), len(template.events), elapsed)


# --- Main ------------------------------------------------------------------------------------


def print_result(result: Result) -> None:
    print(
        f"{result.name:<14} {result.commands_per_second:>9.1f} commands/s"
        f"  {result.events_per_second:>9.1f} events/s"
        f"  ({result.commands} commands in {result.elapsed:.2f} s)",
        flush=True,
    )


def run_contenders(url: str, args: argparse.Namespace) -> tuple[Result, Result]:
    template = build_template()
    with bounded("preparing the database", 120):
        asyncio.run(prepare_database(url))
        asyncio.run(checkpoint(url))
    with bounded("risiti's writers", args.seconds + 120):
        risiti = asyncio.run(run_risiti(url, args.writers, args.seconds, template))
    with bounded("the checkpoint between contenders", 120):
        asyncio.run(checkpoint(url))
    with bounded("the eventsourcing recorder's writers", args.seconds + 120):
        reference = run_eventsourcing(url, args.writers, args.seconds, template)
    return risiti, reference


def main() -> None:
    args = parse_args()
    with failing_clearly(), scratch_database() as url:
        risiti, reference = run_contenders(url, args)
    print_result(risiti)
    print_result(reference)
    print(f"ratio: {risiti.commands_per_second / reference.commands_per_second:.2f}", flush=True)


if __name__ == "__main__":
    main()
