"""What the benchmarks share: which servers to run on, the address as psycopg and pgbench want
it, pgbench itself, percentiles, and the bound every phase of a benchmark runs within."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import asyncpg

from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.embedded import EmbeddedServers, database_url_for, start_embedded_servers
from risiti.eventstore.database import create_database, drop_database
from risiti.eventstore.migrations import migrate

CLEANUP_SECONDS = 60.0
"""After a phase ran out of time, how long cleaning up (dropping the scratch database, stopping
servers) may take before the process exits anyway."""


def server_url() -> tuple[str, EmbeddedServers | None]:
    settings = Settings()
    if settings.database_url:
        return settings.database_url, None
    servers = start_embedded_servers(Path(settings.home))
    return servers.database_url, servers


def psycopg_params(url: str) -> dict[str, str]:
    """PostgresDatastore's keyword arguments from a URL (TCP host or ?host=socket-dir)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return {
        "dbname": unquote(parts.path.lstrip("/")),
        "host": query.get("host", [parts.hostname or "127.0.0.1"])[0],
        "port": str(parts.port or query.get("port", ["5432"])[0]),
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
    }


@contextmanager
def scratch_servers() -> Iterator[tuple[str, str]]:
    """The URLs of a fresh `risiti_bench_<hex>` database, dropped afterwards, and of Redis: on
    the servers of RISITI_DATABASE_URL and RISITI_REDIS_URL, or on embedded ones (for whichever
    is unset), stopped afterwards."""
    settings = Settings()
    embedded = None
    if not (settings.database_url and settings.redis_url):
        embedded = start_embedded_servers(Path(settings.home))
    server = settings.database_url or (embedded.database_url if embedded else "")
    redis = settings.redis_url or (embedded.redis_url if embedded else "")
    name = f"risiti_bench_{secrets.token_hex(6)}"
    try:
        asyncio.run(create_database(server, name))
        try:
            yield database_url_for(server, name), redis
        finally:
            asyncio.run(drop_database(server, name))
    finally:
        if embedded is not None:
            embedded.stop()


@contextmanager
def scratch_database() -> Iterator[str]:
    """The URL of a fresh `risiti_bench_<hex>` database, dropped afterwards (on the server of
    RISITI_DATABASE_URL, or on an embedded one, stopped afterwards)."""
    with scratch_servers() as (database, _redis):
        yield database


# --- Bounds ----------------------------------------------------------------------------------


class PhaseTimedOut(Exception):
    """A phase of a benchmark ran longer than its bound."""


@contextmanager
def bounded(phase: str, seconds: float) -> Iterator[None]:
    """Run the block within `seconds`, or fail it with PhaseTimedOut naming the phase and the
    bound. A timer signal interrupts the main thread wherever it waits (a psycopg poll, an
    asyncio loop, a subprocess), so a hung reference fails instead of hanging; phases do not
    nest. Use it in the main thread only."""

    def expire(_signal: int, _frame: FrameType | None) -> None:
        # Whatever the phase was waiting for, cleaning up after it must not hang either.
        watchdog = threading.Timer(CLEANUP_SECONDS, _exit_after_cleanup_hung, (phase,))
        watchdog.daemon = True
        watchdog.start()
        raise PhaseTimedOut(f"{phase}: did not finish within its bound of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _exit_after_cleanup_hung(phase: str) -> None:
    print(
        f"\n{bench_name()}: cleaning up after {phase!r} ran out of time took over"
        f" {CLEANUP_SECONDS:g} s; exiting without it (a risiti_bench_* database may be left)",
        file=sys.stderr,
        flush=True,
    )
    os._exit(2)


@contextmanager
def failing_clearly() -> Iterator[None]:
    """Turn a phase that ran out of time into one line on stderr and exit status 1."""
    try:
        yield
    except PhaseTimedOut as timed_out:
        print(f"\n{bench_name()}: {timed_out}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def bench_name() -> str:
    return f"bench/{Path(sys.argv[0]).name}"


# --- pgbench and figures ---------------------------------------------------------------------


@dataclass(frozen=True)
class PgbenchRun:
    transactions_per_second: float
    latencies: list[float]
    """Seconds, one per transaction."""


def pgbench(
    url: str, scripts: list[str], clients: int, seconds: float, *, threads: int = 2
) -> PgbenchRun:
    """pgbench running the scripts (chosen at random, equally often) with `clients` clients for
    `seconds`; bounded by the run's length and a minute more."""
    connection = psycopg_params(url)
    with tempfile.TemporaryDirectory() as workdir:
        files = []
        for number, sql in enumerate(scripts):
            script = Path(workdir, f"script{number}.sql")
            script.write_text(sql)
            files += ["-f", str(script)]
        try:
            done = subprocess.run(
                [
                    "pgbench",
                    "-n",
                    *files,
                    "-c",
                    str(clients),
                    "-j",
                    str(min(threads, clients)),
                    "-T",
                    str(max(int(seconds), 1)),
                    "-l",
                    "--log-prefix",
                    str(Path(workdir, "log")),
                    "-h",
                    connection["host"],
                    "-p",
                    connection["port"],
                    "-U",
                    connection["user"],
                    connection["dbname"],
                ],
                capture_output=True,
                text=True,
                env=os.environ | {"PGPASSWORD": connection["password"]},
                timeout=seconds + 60,
            )
        except subprocess.TimeoutExpired:
            raise PhaseTimedOut(f"pgbench: did not finish within {seconds + 60:g} s") from None
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{done.stderr.strip()}")
        tps = re.search(r"tps = ([0-9.]+)", done.stdout)
        latencies = [
            int(line.split()[2]) / 1e6
            for log in Path(workdir).glob("log*")
            for line in log.read_text().splitlines()
        ]
        return PgbenchRun(float(tps.group(1)) if tps else 0.0, latencies)


def literal(value: Any) -> str:
    """A parameter's value written as SQL, for pgbench."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'"
    if isinstance(value, list | tuple):
        return "ARRAY[" + ",".join(literal(v) for v in value) + "]"
    if isinstance(value, UUID | datetime | date):
        return f"'{value.isoformat() if not isinstance(value, UUID) else value}'"
    return "'" + str(value).replace("'", "''") + "'"


def literal_sql(sql: str, params: list[Any] | tuple[Any, ...]) -> str:
    """The statement with its parameters written in, for pgbench."""
    return re.sub(r"\$(\d+)", lambda found: literal(params[int(found.group(1)) - 1]), sql)


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1] if len(values) > 1 else 0.0


def tail(log: Path, lines: int = 30) -> str:
    """The last lines of a service's log, to show when a bench fails."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def open_bench_accounts(url: str, names: list[str]) -> list[OpenedAccount]:
    """The scratch database migrated, and an account opened under each name."""
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        return [await open_account(Ledger(pool), name) for name in names]
    finally:
        await pool.close()
