"""Read models under load: list latency with 100 000 invoices in one account, and replay rate.

What it measures:
- `GET /v1/invoices?limit=50`, without and with filters, served by `risiti api --processes N`
  (separate processes, one per core by default) to 16 concurrent readers over HTTP: p50 and p99
  latency per query.
- `risiti replay` of the whole log into fresh invoice_list and balances tables: events per
  second, progress shown.

References measured in the same run, on the same database, because absolute figures drift with
the machine and whatever else runs on it:
- for the list, `pgbench` running the very SQL the endpoint runs (16 clients), so the ratio says
  what the API adds to the query itself. The two take turns at each query, 2 s each, until
  each has had `--seconds`, and each side's latencies are pooled over its turns: the machine's
  speed drifts by a third within minutes on shared hosts, and one 8 s window after the other
  measured that drift as much as the API;
- for the replay, the eventsourcing library's own PostgreSQL recorder reading the same log
  (`select_notifications`) and folding it with the library's mapper into aggregates, with no
  read model written; the ratio says what building the read models costs beyond following the
  log the library's way. Each runs twice, taking turns, and each side's faster run counts (as
  `timeit` takes its best: the run the machine's other load disturbed least).

The log is generated directly through the domain and the recorder (invoices in every status,
1 000 customers, NGN and XOF, due dates around today), into a fresh `risiti_bench_<hex>`
database that is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import aiohttp
import asyncpg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from common import (
    bounded,
    failing_clearly,
    free_port,
    literal_sql,
    open_bench_accounts,
    percentile,
    pgbench,
    psycopg_params,
    scratch_database,
    tail,
)
from keepalive import KeepAliveConnection, request_bytes
from risiti.cli import ProgressLine
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.eventstore.mapper import create_mapper
from risiti.eventstore.recorder import append_events
from risiti.process import use_fast_event_loop
from risiti.projections.invoice_list import InvoiceFilters, list_query
from risiti.projections.replay import replay
from risiti.projections.runner import all_projections

CHUNK = 500
INSERT_CHUNK = 500
"""Events a call when the reference inserts the log (see store_reference_log)."""
TURN_SECONDS = 2
"""The length of one turn of the API or of pgbench at a query (see the module docstring)."""
REPLAY_TURNS = 2
"""How many times the replay and its reference each run, taking turns."""
ES_TABLE = "bench_es_events"
TODAY = datetime.now(UTC).date()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000, help="(default 100000)")
    parser.add_argument("--customers", type=int, default=1_000, help="(default 1000)")
    parser.add_argument("--readers", type=int, default=16, help="concurrent readers (default 16)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=8.0,
        help="per query and contender, in turns of 2 s (default 8)",
    )
    parser.add_argument(
        "--api-processes",
        type=int,
        default=os.cpu_count() or 1,
        help="`risiti api --processes N`: one per core, as docs/operations.md advises"
        " (default: this machine's cores)",
    )
    parser.add_argument(
        "--replay-only",
        action="store_true",
        help="measure the replay and its reference only, not the list under load",
    )
    return parser.parse_args()


# --- The log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    id: UUID
    name: str
    email: str


def customers(count: int) -> list[Customer]:
    surnames = ("Okafor", "Mensah", "Adeyemi", "Kamau", "Diallo", "Nwosu", "Banda", "Osei")
    return [
        Customer(uuid4(), f"{surnames[i % len(surnames)]} Trading {i}", f"billing{i}@example.com")
        for i in range(count)
    ]


def invoice_events(account_id: UUID, number: int, customer: Customer) -> list[Any]:
    """One invoice's events: drafts, open, partly paid and paid ones, due around today."""
    rng = random.Random(number)
    kind = number % 10
    draft = InvoiceDraft(
        account_id=account_id,
        livemode=False,
        document_type="invoice",
        currency="XOF" if number % 20 == 0 else "NGN",
        customer={"id": customer.id, "name": customer.name, "email": customer.email},
        items=[
            {
                "description": "Consulting",
                "quantity": Decimal(rng.randint(1, 5)),
                "unit_price": rng.randint(1, 500) * 1000,
                "product_id": None,
                "taxes": [],
            },
            {
                "description": "Delivery",
                "quantity": Decimal(1),
                "unit_price": 2500,
                "product_id": None,
                "taxes": [],
            },
        ],
        issue_date=TODAY - timedelta(days=150),
        due_date=TODAY + timedelta(days=rng.randint(-120, 30)),
        taxes=[{"name": "VAT", "percentage": Decimal("7.5"), "inclusive": False}],
        accept_partial_payments=True,
        reference=f"PO-{number}",
    )
    invoice = Invoice.create(draft, view_token=secrets.token_urlsafe(24))
    if kind >= 2:
        invoice.finalize(document_number=f"INV-2026-{number:06d}", finalized_at=datetime.now(UTC))
    if kind >= 6:
        amount = invoice.amount_due // 2 if kind < 8 else invoice.amount_due
        invoice.record_payment(
            payment_id=uuid4(),
            amount=amount,
            method="transfer",
            reference=None,
            paid_at=datetime.now(UTC),
        )
    return list(invoice.collect_events())


async def generate_log(
    url: str, account_id: UUID, count: int, people: list[Customer]
) -> list[StoredEvent]:
    """Append `count` invoices' events, CHUNK invoices a transaction; returns what was stored."""
    mapper = create_mapper()
    progress = ProgressLine("log   ")
    stored_all: list[StoredEvent] = []
    conn = await asyncpg.connect(url)
    try:
        for start in range(0, count, CHUNK):
            stored = [
                mapper.to_stored_event(event)
                for number in range(start, min(start + CHUNK, count))
                for event in invoice_events(account_id, number, people[number % len(people)])
            ]
            async with conn.transaction():
                await append_events(conn, stored, account_id=account_id, livemode=False)
            stored_all += stored
            progress(min(start + CHUNK, count), count)
    finally:
        await conn.close()
    print(file=sys.stderr)
    return stored_all


# --- Replay, and the library's way of following the log -------------------------------------


async def run_replay(url: str) -> float:
    pool = await asyncpg.create_pool(url, min_size=4, max_size=4)
    try:
        result = await replay(
            pool, all_projections(), progress=ProgressLine("replay"), database_url=url
        )
    finally:
        await pool.close()
    print(file=sys.stderr)
    return result.events_per_second


def store_reference_log(url: str, stored: list[StoredEvent]) -> None:
    """The same events in the library's recorder's own table, for `run_reference_follow`."""
    datastore = PostgresDatastore(**psycopg_params(url), pool_size=2)
    try:
        recorder = PostgresApplicationRecorder(datastore, events_table_name=ES_TABLE)
        recorder.create_table()
        # 500 events a call: with 5 000, psycopg's pure-Python pipeline (the library inserts in
        # pipeline mode) deadlocks against the embedded server's Unix socket, its client in
        # wait_poll and the backend in ClientRead mid-message (psycopg issue 685's symptom; the
        # C implementation does not hang). 500 never hung in our runs; the bound still applies.
        for start in range(0, len(stored), INSERT_CHUNK):
            recorder.insert_events(stored[start : start + INSERT_CHUNK])
    finally:
        datastore.close()


def run_reference_follow(url: str, count: int) -> float:
    """The library's recorder reading its copy of the log back by notification id, and the
    library's mapper folding it into aggregates: events per second."""
    datastore = PostgresDatastore(**psycopg_params(url), pool_size=2)
    try:
        recorder = PostgresApplicationRecorder(datastore, events_table_name=ES_TABLE)
        mapper = create_mapper()
        progress = ProgressLine("es    ")
        aggregates: dict[UUID, Any] = {}
        started = time.perf_counter()
        next_id, done = 1, 0
        while notifications := recorder.select_notifications(next_id, 5000):
            for notification in notifications:
                event: Any = mapper.to_domain_event(notification)
                aggregates[event.originator_id] = event.mutate(aggregates.get(event.originator_id))
            next_id = notifications[-1].id + 1
            done += len(notifications)
            progress(done, count)
        elapsed = time.perf_counter() - started
    finally:
        datastore.close()
    print(file=sys.stderr)
    return done / elapsed


def compare_replays(url: str, stored: list[StoredEvent], bound: float) -> None:
    """Our replay and the reference, taking turns REPLAY_TURNS times; each side's best turn
    (module docstring)."""
    with bounded("storing the eventsourcing recorder's copy of the log", bound):
        store_reference_log(url, stored)
    ours: list[float] = []
    theirs: list[float] = []
    for turn in range(1, REPLAY_TURNS + 1):
        with bounded(f"risiti replay, turn {turn}", bound):
            ours.append(asyncio.run(run_replay(url)))
        with bounded(f"the eventsourcing recorder's reference, turn {turn}", bound):
            theirs.append(run_reference_follow(url, len(stored)))
    turns = ", ".join(f"{a:,.0f}/{b:,.0f}" for a, b in zip(ours, theirs, strict=True))
    print(
        f"\nreplay: {len(stored)} events; risiti {max(ours):,.0f} events/s"
        f" (invoice_list + balances written); eventsourcing recorder read and folded"
        f" {max(theirs):,.0f} events/s; ratio {max(ours) / max(theirs):.2f}"
        f" (best of {REPLAY_TURNS} turns each; risiti/recorder by turn: {turns})",
        flush=True,
    )


# --- The list under load ---------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    params: dict[str, str]
    filters: InvoiceFilters


def queries(people: list[Customer]) -> list[Query]:
    someone = people[7]
    week_ago = datetime.now(UTC) - timedelta(days=7)
    return [
        Query("newest 50", {}, InvoiceFilters()),
        Query("status=open", {"status": "open"}, InvoiceFilters(status="open")),
        Query("status=overdue", {"status": "overdue"}, InvoiceFilters(status="overdue")),
        Query(
            "customer_id",
            {"customer_id": str(someone.id)},
            InvoiceFilters(customer_id=someone.id),
        ),
        Query("q=email", {"q": someone.email}, InvoiceFilters(q=someone.email)),
        Query(
            "created_gte",
            {"created_gte": week_ago.isoformat()},
            InvoiceFilters(created_gte=week_ago),
        ),
    ]


def start_api(url: str, port: int, processes: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "RISITI_DATABASE_URL": url,
        "RISITI_REDIS_URL": os.environ.get("RISITI_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RISITI_PORT": str(port),
        "RISITI_POOL_MAX_SIZE": "16",
        # 16 readers on one key ask for thousands of pages a second: the default limit of 100
        # per second per key would measure the limiter, not the list.
        "RISITI_RATE_LIMIT_PER_SECOND": "0",
    }
    command = [sys.executable, "-m", "risiti.cli", "api", "--processes", str(processes)]
    # Its access log (a line a request, thousands a second) goes to a file, as a service's
    # does: on the terminal it would bury the figures, and the terminal drawing it would take
    # the CPU the list is measured on.
    with log.open("wb") as logged:
        return subprocess.Popen(command, env=env, stdout=logged, stderr=logged)


async def wait_ready(base: str) -> None:
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for _ in range(200):
            try:
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        return
            # The port listens before the api processes have started: a request may wait.
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not start")


async def load(base: str, key: str, query: Query, readers: int, seconds: float) -> list[float]:
    """Latencies in seconds of `readers` clients asking the same page for `seconds`, each on a
    keep-alive connection of its own (bench/keepalive.py: a client that costs the machine little,
    as pgbench does)."""
    target = "/v1/invoices?" + urlencode({"limit": "50"} | query.params)
    raw = request_bytes("GET", base, target, {"Authorization": f"Bearer {key}"})
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def reader() -> None:
        connection = await KeepAliveConnection.open(base)
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                status, answer = await connection.request(raw)
                if status != 200:
                    raise RuntimeError(f"the list answered {status}: {answer[:300]!r}")
                latencies.append(time.perf_counter() - started)
        finally:
            connection.close()

    await asyncio.gather(*(reader() for _ in range(readers)))
    return latencies


# --- Main ------------------------------------------------------------------------------------


async def prepare(url: str, args: argparse.Namespace) -> tuple[str, UUID, list[Customer]]:
    [account] = await open_bench_accounts(url, ["Bench Traders"])
    return account.test_key, account.account_id, customers(args.customers)


def measure_lists(
    url: str, key: str, account_id: UUID, people: list[Customer], args: argparse.Namespace
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="risiti-bench-read-") as home:
        log = Path(home, "api.log")
        api = start_api(url, port, args.api_processes, log)
        try:
            with bounded("the API starting", 60):
                asyncio.run(wait_ready(base))
            compare_lists(base, url, key, account_id, people, args)
        except BaseException:
            print(f"the api's log ends:\n{tail(log)}", file=sys.stderr)
            raise
        finally:
            api.terminate()
            try:
                api.wait(timeout=20)
            except subprocess.TimeoutExpired:
                api.kill()


def compare_lists(
    base: str,
    url: str,
    key: str,
    account_id: UUID,
    people: list[Customer],
    args: argparse.Namespace,
) -> None:
    """Each query, by the API and by pgbench, taking turns (module docstring)."""
    turn_count = max(1, round(args.seconds / TURN_SECONDS))
    turns = f"{turn_count} turn{'s' if turn_count > 1 else ''} of {TURN_SECONDS} s each"
    print(
        f"\n{'query':<16} {'risiti p50':>10} {'p99':>8} {'pgbench p50':>12} {'p99':>8}"
        f" {'p99 ratio':>10}  (ms; {args.readers} readers; {turns})"
    )
    for query in queries(people):
        sql, params = list_query(account_id, False, limit=50, filters=query.filters)
        script = literal_sql(sql, params) + ";\n"
        ours: list[float] = []
        theirs: list[float] = []
        for turn in range(turn_count):
            with bounded(f"the list, {query.name}, turn {turn + 1}", TURN_SECONDS + 60):
                ours += asyncio.run(load(base, key, query, args.readers, TURN_SECONDS))
            with bounded(f"pgbench, {query.name}, turn {turn + 1}", TURN_SECONDS + 60):
                theirs += pgbench(url, [script], args.readers, TURN_SECONDS).latencies
        print(
            f"{query.name:<16} {percentile(ours, 0.5) * 1e3:>10.2f} "
            f"{percentile(ours, 0.99) * 1e3:>8.2f} {percentile(theirs, 0.5) * 1e3:>12.2f} "
            f"{percentile(theirs, 0.99) * 1e3:>8.2f} "
            f"{percentile(ours, 0.99) / max(percentile(theirs, 0.99), 1e-9):>10.2f}",
            flush=True,
        )


def main() -> None:
    args = parse_args()
    use_fast_event_loop()  # the readers' own loop, so that the load costs the machine less
    # Each phase's bound: minutes more than it takes on the 2-core machine at 100 000 invoices.
    thousands = args.invoices / 1000
    with failing_clearly(), scratch_database() as url:
        with bounded("preparing the account", 120):
            key, account_id, people = asyncio.run(prepare(url, args))
        with bounded("generating the log", 120 + 3 * thousands):
            stored = asyncio.run(generate_log(url, account_id, args.invoices, people))
        compare_replays(url, stored, 120 + 3 * thousands)
        if not args.replay_only:
            measure_lists(url, key, account_id, people, args)


if __name__ == "__main__":
    main()
