"""The `risiti` command: dev, api, projector, replay, parked, worker, migrate, accounts; and
for auditors verify, checkpoint, export, history."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from risiti.config import Settings
from risiti.logs import configure_logging
from risiti.process import freeze_startup_heap, use_fast_event_loop

if TYPE_CHECKING:
    import asyncpg
    from pydantic import ValidationError

    from risiti.embedded import EmbeddedServers
    from risiti.projections.runner import Projection
    from risiti.supervisor import WatchedServer

DESCRIPTION = "Risiti: an event-sourced invoicing ledger with async workers."


def main(argv: list[str] | None = None) -> None:
    use_fast_event_loop()
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        raise SystemExit(2)
    try:
        code = args.run(args) or 0
    except Exception as failure:
        # An operational failure (a server down, a bad setting, a port taken) is one line for
        # the operator; anything else is a bug in Risiti and keeps its traceback.
        line = _operational_failure(failure)
        if line is None:
            raise
        print(f"risiti: {line}", file=sys.stderr)
        code = 1
    raise SystemExit(code)


class CannotRun(Exception):
    """Raised by a command that cannot do its work for a reason outside Risiti's code: a server
    it cannot reach, a port already taken, no log where it looked. `main` prints it as one line
    and exits 1."""


def _operational_failure(failure: BaseException) -> str | None:
    """The one line that explains `failure` to an operator, or None for a bug."""
    from pydantic import ValidationError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from risiti.embedded import EmbeddedServersNotInstalled

    if isinstance(failure, CannotRun | EmbeddedServersNotInstalled):
        return str(failure)
    if isinstance(failure, ValidationError) and failure.title == Settings.__name__:
        return _invalid_setting(failure)
    if isinstance(failure, RedisConnectionError):
        return f"cannot reach Redis: {failure}"
    if isinstance(failure, OSError):  # refused and reset connections, timeouts among them
        return str(failure) or type(failure).__name__
    if isinstance(failure, BaseExceptionGroup) and len(failure.exceptions) == 1:
        return _operational_failure(failure.exceptions[0])  # from a process's TaskGroup
    return None


def _invalid_setting(error: ValidationError) -> str:
    """`RISITI_PORT must be a valid integer, … (it is 'eighty')` from pydantic's first error."""
    first = error.errors()[0]
    name = "RISITI_" + "_".join(str(part) for part in first["loc"]).upper()
    reason = first["msg"]
    reason = reason.replace("Input should be", "must be", 1) if "should be" in reason else reason
    return f"{name} {reason} (it is {first['input']!r})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="risiti", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"risiti {version('risiti')}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    dev = commands.add_parser(
        "dev",
        help="run api, projector and worker together, with embedded servers if needed",
        description="Run the whole service on this machine: api, projector and worker. Without "
        "RISITI_DATABASE_URL / RISITI_REDIS_URL it starts an embedded PostgreSQL and Redis "
        "under ./.risiti/, migrates, creates a demo account, and prints RISITI_URL, "
        "RISITI_TEST_KEY, RISITI_DATABASE_URL and RISITI_REDIS_URL, one per line, once the API "
        "answers. A process or embedded server that dies is started again (with a growing "
        "delay; it gives up after 5 crashes of one within a minute). Ctrl-C stops everything; "
        "the next start reuses the data.",
    )
    dev.add_argument("--port", type=int, help="HTTP port of the API (default 8000)")
    dev.set_defaults(run=_dev)

    api = commands.add_parser(
        "api", help="serve the HTTP API", description="Serve the HTTP API (aiohttp)."
    )
    api.add_argument("--host", help="address to listen on (default RISITI_HOST or 127.0.0.1)")
    api.add_argument("--port", type=int, help="port to listen on (default RISITI_PORT or 8000)")
    api.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="serve from N processes sharing the port (SO_REUSEPORT; the kernel spreads the "
        "connections): one per core uses every core of a machine (default 1)",
    )
    # How --processes starts its children; not for people.
    api.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    api.set_defaults(run=_api)

    commands.add_parser(
        "projector",
        help="keep the read models up to date and dispatch webhooks",
        description="Follow the event log: apply every event to the read models (invoice_list, "
        "balances) "
        "and turn events into webhook deliveries, each exactly once.",
    ).set_defaults(run=_projector)

    replay = commands.add_parser(
        "replay",
        help="rebuild read models from the event log, or --check them",
        description="Rebuild projections from position zero into fresh tables and swap them in "
        "atomically, while the live ones keep serving. Shows progress and the final events/s. "
        "With --check, compare the rebuilt tables with the live ones at the same position of "
        "the log instead, and exit 1 listing the differences.",
    )
    replay.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="projections to rebuild: invoice_list, balances (default: all)",
    )
    replay.add_argument(
        "--check", action="store_true", help="compare instead of swapping; exit 1 on differences"
    )
    replay.set_defaults(run=_replay)

    commands.add_parser(
        "worker",
        help="run the ARQ worker (webhook delivery, sending invoices and reminders)",
        description="Run the ARQ worker that delivers webhooks and sends invoices by email and "
        "text message, with their sweepers and the overdue and reminder jobs.",
    ).set_defaults(run=_worker)

    commands.add_parser(
        "migrate",
        help="apply the database migrations",
        description="Apply the numbered SQL migrations not applied yet.",
    ).set_defaults(run=_migrate)

    accounts = commands.add_parser(
        "accounts", help="manage accounts", description="Manage accounts."
    )
    account_commands = accounts.add_subparsers(title="commands", metavar="COMMAND")
    create = account_commands.add_parser(
        "create",
        help="open an account and print its keys once",
        description="Open an account for a business and print its test and live secret keys. "
        "They are stored hashed: this is the only time they are shown.",
    )
    create.add_argument("name", help="the business' name")
    create.set_defaults(run=_accounts_create)
    _audit_parsers(commands)
    _parked_parser(commands)
    return parser


def _parked_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parked = commands.add_parser(
        "parked",
        help="list the aggregates followers could not apply, or --retry them after a fix",
        description="List the aggregates a follower of the log (projection:invoice_list, "
        "projection:balances, dispatcher) could not apply and parked: follower, aggregate, "
        "account, position, error, parked_at, and how many events wait. With --retry, apply "
        "their events again, in order, one transaction per aggregate: applied ones are no "
        "longer parked; the others stay parked with the new error, and the exit code is 1.",
    )
    parked.add_argument("--retry", action="store_true", help="apply the parked events again")
    parked.add_argument("--follower", metavar="NAME", help="only this follower's")
    parked.add_argument("--aggregate", metavar="ID", type=UUID, help="only this aggregate")
    parked.set_defaults(run=_parked)


def _parked(args: argparse.Namespace) -> int:
    from risiti.parking import list_parked, retry_parked

    settings, _servers = _settings()
    asyncio.run(_migrate_async(settings))
    if args.retry:
        return asyncio.run(retry_parked(settings, args.follower, args.aggregate))
    return asyncio.run(list_parked(settings, args.follower, args.aggregate))


def _audit_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Auditors' commands (docs/auditing.md): verify, checkpoint, export, history."""
    verify = commands.add_parser(
        "verify",
        help="recompute every hash chain and checkpoint of the log",
        description="Recompute the hash of every event from the one before it of the same "
        "aggregate, and the root of every checkpoint from the events it covers. Shows progress; "
        "exits 0 on an intact log, or 1 naming the first broken aggregate and position (an "
        "altered, deleted or moved event, or a deleted whole aggregate) and listing the rest.",
    )
    verify.add_argument(
        "--account", metavar="ID", type=UUID, help="only this account's events and checkpoints"
    )
    verify.add_argument(
        "--since",
        metavar="POS",
        type=int,
        help="start at the checkpoint range holding log position POS instead of the beginning",
    )
    verify.set_defaults(run=_verify)

    commands.add_parser(
        "checkpoint",
        help="checkpoint the log now (the worker does it every minute)",
        description="Record a checkpoint per account over the events not checkpointed yet, "
        "as the worker's scheduled job does every minute, and print how many.",
    ).set_defaults(run=_checkpoint)

    export = commands.add_parser(
        "export",
        help="write an account's event log with its hashes",
        description="Write one account's events, in log order, with their hashes, to standard "
        "output: JSON Lines (a header, the events, then the checkpoints the export holds whole) "
        "or CSV (the events). docs/auditing.md has a script that verifies a JSON Lines export.",
    )
    export.add_argument(
        "--account", metavar="ID", type=UUID, required=True, help="the account to export"
    )
    export.add_argument(
        "--format", choices=("jsonl", "csv"), default="jsonl", help="jsonl (default) or csv"
    )
    export.add_argument(
        "--from",
        dest="since",
        metavar="INSTANT",
        type=_instant,
        help="events recorded at or after (ISO 8601; UTC if it has no offset)",
    )
    export.add_argument(
        "--to",
        dest="until",
        metavar="INSTANT",
        type=_instant,
        help="events recorded before (ISO 8601; UTC if it has no offset)",
    )
    export.set_defaults(run=_export)

    history = commands.add_parser(
        "history",
        help="tell the story of one invoice",
        description="Print every event of one invoice, by id or document number: when, which "
        "key or job, what it changed, and where it left the invoice.",
    )
    history.add_argument("invoice", help="the invoice's id or document number (INV-2026-0001)")
    history.add_argument(
        "--account", metavar="ID", type=UUID, help="whose number it is, if several have it"
    )
    history.add_argument(
        "--mode", choices=("test", "live"), help="which mode's number it is, if both have it"
    )
    history.set_defaults(run=_history)


def _settings() -> tuple[Settings, EmbeddedServers | None]:
    """Settings with server URLs: from the environment, or from embedded servers."""
    settings = Settings()
    configure_logging(settings)
    if settings.database_url and settings.redis_url:
        return settings, None
    from risiti.embedded import database_url_for, start_embedded_servers

    servers = start_embedded_servers(Path(settings.home))
    from risiti.eventstore.database import create_database

    asyncio.run(create_database(servers.database_url, "risiti", exist_ok=True))
    return settings.model_copy(
        update={
            "database_url": settings.database_url
            or database_url_for(servers.database_url, "risiti"),
            "redis_url": settings.redis_url or servers.redis_url,
        }
    ), servers


def _migrate(_: argparse.Namespace) -> None:
    settings, _servers = _settings()
    applied = asyncio.run(_migrate_async(settings))
    print(f"applied {len(applied)} migration(s)" if applied else "already up to date")


async def _migrate_async(settings: Settings) -> list[object]:
    from risiti.eventstore.migrations import migrate

    conn = await _connect(settings, "migrate")
    try:
        return list(await migrate(conn))
    finally:
        await conn.close()


def _api(args: argparse.Namespace) -> None:
    from aiohttp import web

    from risiti.api.app import create_app

    settings, _servers = _settings()
    settings = settings.model_copy(
        update={k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    )
    asyncio.run(_migrate_async(settings))
    if args.processes > 1:
        _serve_from_processes(settings, args.processes)
        return
    app = create_app(settings)
    app.on_startup.append(_freeze_startup_heap)
    try:
        web.run_app(
            app, host=settings.host, port=settings.port, print=None, reuse_port=args.reuse_port
        )
    except OSError as failure:
        if failure.errno != errno.EADDRINUSE:
            raise
        raise CannotRun(f"port {settings.port} is taken (on {settings.host})") from None


def _serve_from_processes(settings: Settings, processes: int) -> None:
    """`risiti api` in `processes` children on one port; stops them all when one stops."""
    from risiti.metrics import shared_metrics_directory
    from risiti.supervisor import stop_processes, wait_for_any_exit

    command = [sys.executable, "-m", "risiti.cli", "api", "--reuse-port"]
    command += ["--host", settings.host, "--port", str(settings.port)]
    with shared_metrics_directory() as env:
        children = [subprocess.Popen(command, env=env) for _ in range(processes)]
        try:
            wait_for_any_exit(children)
        finally:
            stop_processes(children)


async def _connect(settings: Settings, role: str) -> asyncpg.Connection:
    """One connection to the database; CannotRun, saying where, if it cannot be had."""
    import asyncpg

    from risiti.eventstore.database import connect

    try:
        return await connect(settings, role)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as failure:
        where = _where(settings.database_url)
        reason = str(failure) or type(failure).__name__
        raise CannotRun(f"cannot reach PostgreSQL at {where}: {reason}") from None


def _where(database_url: str | None) -> str:
    """Host, port and database of a URL, without its user and password."""
    parts = urlsplit(database_url or "")
    host = parts.hostname or parse_qs(parts.query).get("host", ["localhost"])[0]
    port = ""
    with contextlib.suppress(ValueError):
        port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


async def _freeze_startup_heap(_: object) -> None:
    freeze_startup_heap()


def _projector(_: argparse.Namespace) -> None:
    settings, _servers = _settings()
    asyncio.run(_migrate_async(settings))
    # Ctrl-C (or `risiti dev` passing it on) is the way to stop it: no traceback for that.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_projector(settings))


async def _run_projector(settings: Settings) -> None:
    from arq import create_pool
    from arq.connections import RedisSettings

    from risiti.eventstore.database import create_pool as create_db_pool
    from risiti.projections.runner import run_projections
    from risiti.workers.dispatcher import Dispatcher

    assert settings.redis_url is not None
    pool = await create_db_pool(settings, "projector")
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.queue_name
    )
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(run_projections(settings, pool))
            group.create_task(Dispatcher(settings, pool, redis).run())
    finally:
        await redis.aclose()
        await pool.close()


def _replay(args: argparse.Namespace) -> int:
    from risiti.projections.runner import all_projections

    known = {projection.name: projection for projection in all_projections()}
    unknown = sorted(set(args.names) - set(known))
    if unknown:
        print(f"risiti replay: no projection named {', '.join(unknown)}", file=sys.stderr)
        print(f"known projections: {', '.join(known)}", file=sys.stderr)
        return 2
    settings, _servers = _settings()
    asyncio.run(_migrate_async(settings))
    chosen = [known[name] for name in args.names] if args.names else list(known.values())
    return asyncio.run(_replay_async(settings, chosen, check=args.check))


async def _replay_async(settings: Settings, projections: list[Projection], *, check: bool) -> int:
    from risiti.eventstore.database import create_pool as create_db_pool
    from risiti.projections.replay import replay

    pool = await create_db_pool(settings, "replay")
    progress = ProgressLine("replay")
    try:
        result = await replay(
            pool,
            projections,
            check=check,
            progress=progress,
            database_url=settings.database_url,
        )
    finally:
        await pool.close()
        progress.end()
    names = ", ".join(p.name for p in projections)
    print(
        f"replayed {result.events} events into {names} in {result.seconds:.1f} s:"
        f" {result.events_per_second:,.0f} events/s",
        file=sys.stderr,
    )
    differences = {table: rows for table, rows in result.differences.items() if rows}
    for table, rows in differences.items():
        print(f"{table} differs from the log:", *(f"  {row}" for row in rows), sep="\n")
    for follower, count in result.parked.items():
        if count:
            print(
                f"{follower}: {count} parked aggregate(s) left where they were parked, in the"
                " live and the rebuilt tables alike (risiti parked lists them)"
            )
    if check and not differences:
        print("no difference: the live read models equal a rebuild from the log")
    return 1 if differences else 0


class ProgressLine:
    """Progress on stderr. On a terminal, a one-line bar redrawn in place at most five times a
    second; anywhere else (a log file, a pipe, CI) a plain line at 0 %, every 10 % and at the
    end, so that a log holds no carriage returns and no thousand frames."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._terminal = sys.stderr.isatty()
        self._started = time.monotonic()
        self._drawn = 0.0
        self._tenths_told = -1

    def __call__(self, done: int, total: int) -> None:
        if self._terminal:
            self._redraw(done, total)
        else:
            self._tell(done, total)

    def end(self) -> None:
        """End the redrawn line, so that what follows starts a line of its own."""
        if self._terminal and self._drawn:
            print(file=sys.stderr, flush=True)

    def _redraw(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._drawn < 0.2 and done < total:
            return
        self._drawn = now
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        rate = done / max(now - self._started, 1e-9)
        print(
            f"\r{self._label} [{bar:<30}] {done:,}/{total:,} events {rate:,.0f}/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def _tell(self, done: int, total: int) -> None:
        tenths = min(done * 10 // total, 10) if total else 10
        if tenths <= self._tenths_told:
            return
        self._tenths_told = tenths
        print(f"{self._label}: {done:,}/{total:,} events ({tenths * 10} %)", file=sys.stderr)


def _instant(text: str) -> datetime:
    """An ISO 8601 instant from the command line; UTC where it names no offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _verify(args: argparse.Namespace) -> int:
    settings, _servers = _log_settings()
    asyncio.run(_refuse_without_log(settings, "verify", args.account))
    asyncio.run(_migrate_async(settings))
    return asyncio.run(_verify_async(settings, args.account, args.since))


def _log_settings() -> tuple[Settings, EmbeddedServers | None]:
    """Settings for the auditors' commands, which read the log only: RISITI_DATABASE_URL, or
    the embedded database of this folder if `risiti dev` made one. They never make one."""
    settings = Settings()
    if settings.database_url:
        return settings, None
    home = Path(settings.home)
    if not (home / "postgres").is_dir():
        raise CannotRun(
            f"no Risiti log here: RISITI_DATABASE_URL is unset and {home.resolve()} holds no "
            "embedded database (run this where `risiti dev` runs, or set RISITI_DATABASE_URL)"
        )
    from risiti.embedded import database_url_for, start_embedded_servers

    servers = start_embedded_servers(home)
    return settings.model_copy(
        update={
            "database_url": database_url_for(servers.database_url, "risiti"),
            "redis_url": settings.redis_url or servers.redis_url,
        }
    ), servers


async def _refuse_without_log(
    settings: Settings, role: str, account_id: UUID | None = None
) -> None:
    """CannotRun, saying where it looked, unless the database holds a Risiti log (of
    `account_id`, if given): an auditor pointed at the wrong database must not read "intact"."""
    from risiti.eventstore.verification import missing_log

    conn = await _connect(settings, role)
    try:
        reason = await missing_log(conn, account_id)
    finally:
        await conn.close()
    if reason is not None:
        where = _where(settings.database_url)
        raise CannotRun(f"no Risiti log in PostgreSQL at {where}: {reason}")


async def _verify_async(settings: Settings, account_id: UUID | None, since: int | None) -> int:
    from risiti.eventstore.verification import verify_log

    conn = await _connect(settings, "verify")
    started = time.monotonic()
    progress = ProgressLine("verify")
    try:
        result = await verify_log(conn, account_id=account_id, since=since, progress=progress)
    finally:
        await conn.close()
        progress.end()
    seconds = time.monotonic() - started
    print(
        f"verified {result.events} events of {result.aggregates} aggregates and "
        f"{result.checkpoints} checkpoints in {seconds:.1f} s:"
        f" {result.events / max(seconds, 1e-9):,.0f} events/s",
        file=sys.stderr,
    )
    if result.intact:
        print(
            f"intact: {result.events} events, {result.checkpoints} checkpoints"
            f" ({result.unchecked_tail} events after the last checkpoint, proven by their chains)"
        )
        return 0
    print(f"BROKEN: {result.problems[0]}")
    for problem in result.problems[1:]:
        print(f"  also: {problem}")
    return 1


def _checkpoint(_: argparse.Namespace) -> None:
    settings, _servers = _settings()
    asyncio.run(_migrate_async(settings))
    made = asyncio.run(_checkpoint_async(settings))
    print(f"recorded {made} checkpoint(s)")


async def _checkpoint_async(settings: Settings) -> int:
    from risiti.eventstore.checkpoints import record_checkpoints
    from risiti.eventstore.database import create_pool

    pool = await create_pool(settings, "checkpoint")
    try:
        return len(await record_checkpoints(pool))
    finally:
        await pool.close()


def _export(args: argparse.Namespace) -> int:
    settings, _servers = _log_settings()
    asyncio.run(_refuse_without_log(settings, "export", args.account))
    asyncio.run(_migrate_async(settings))
    written = asyncio.run(
        _export_async(settings, args.account, args.format, args.since, args.until)
    )
    print(f"exported {written} events", file=sys.stderr)
    return 0


async def _export_async(
    settings: Settings,
    account_id: UUID,
    output_format: str,
    since: datetime | None,
    until: datetime | None,
) -> int:
    from risiti.eventstore.export import export_log

    conn = await _connect(settings, "export")
    progress = ProgressLine("export")
    try:
        return await export_log(
            conn,
            sys.stdout,
            account_id=account_id,
            output_format=output_format,
            since=since,
            until=until,
            progress=progress,
        )
    finally:
        await conn.close()
        progress.end()


def _history(args: argparse.Namespace) -> int:
    from risiti.commands.errors import CommandError

    settings, _servers = _log_settings()
    asyncio.run(_refuse_without_log(settings, "history"))
    asyncio.run(_migrate_async(settings))
    livemode = None if args.mode is None else args.mode == "live"
    try:
        lines = asyncio.run(_history_async(settings, args.invoice, args.account, livemode))
    except CommandError as error:
        print(f"risiti history: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


async def _history_async(
    settings: Settings, invoice: str, account_id: UUID | None, livemode: bool | None
) -> list[str]:
    from risiti.commands.ledger import Ledger
    from risiti.eventstore.database import create_pool
    from risiti.queries.audit import invoice_story

    pool = await create_pool(settings, "history")
    try:
        return await invoice_story(Ledger(pool), invoice, account_id=account_id, livemode=livemode)
    finally:
        await pool.close()


def _worker(_: argparse.Namespace) -> None:
    from risiti.workers.running import run_worker

    settings, _servers = _settings()
    asyncio.run(_migrate_async(settings))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings))


def _accounts_create(args: argparse.Namespace) -> None:
    settings, _servers = _settings()
    asyncio.run(_migrate_async(settings))
    opened = asyncio.run(_open_account(settings, args.name))
    print(f"account_id={opened['account_id']}")
    print(f"test_key={opened['test_key']}")
    print(f"live_key={opened['live_key']}")


async def _open_account(settings: Settings, name: str) -> dict[str, str]:
    from risiti.commands.accounts import open_account
    from risiti.commands.ledger import Ledger
    from risiti.eventstore.database import create_pool

    pool = await create_pool(settings, "cli")
    try:
        opened = await open_account(Ledger(pool, actor="cli:accounts"), name)
    finally:
        await pool.close()
    return {
        "account_id": str(opened.account_id),
        "test_key": opened.test_key,
        "live_key": opened.live_key,
    }


def _dev(args: argparse.Namespace) -> int:
    from risiti.supervisor import Child, Supervisor, answers_http

    settings, servers = _settings()
    if args.port:
        settings = settings.model_copy(update={"port": args.port})
    asyncio.run(_migrate_async(settings))
    demo = _demo_account(settings)
    env = {
        **os.environ,
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
        "RISITI_PORT": str(settings.port),
        "RISITI_HOST": settings.host,
    }
    children = [
        Child(role, [sys.executable, "-m", "risiti.cli", role], env)
        for role in ("api", "projector", "worker")
    ]
    supervisor = Supervisor(
        children,
        [] if servers is None else _watched(servers),
        ready=lambda: answers_http(f"{_local_url(settings)}/healthz"),
        on_ready=lambda: _print_dev_lines(settings, demo["test_key"]),
    )
    try:
        return supervisor.run()
    finally:
        if servers is not None:
            servers.stop()


def _watched(servers: EmbeddedServers) -> list[WatchedServer]:
    from risiti.supervisor import WatchedServer

    return [
        WatchedServer(
            "embedded PostgreSQL", servers.postgres_is_running, servers.start_postgres_again
        ),
        WatchedServer("embedded Redis", servers.redis_is_running, servers.start_redis_again),
    ]


def _local_url(settings: Settings) -> str:
    """Where this machine reaches the API (which may listen on every address)."""
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0") else settings.host
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


def _print_dev_lines(settings: Settings, test_key: str) -> None:
    print(f"RISITI_URL={settings.base_url}")
    print(f"RISITI_TEST_KEY={test_key}")
    print(f"RISITI_DATABASE_URL={settings.database_url}")
    print(f"RISITI_REDIS_URL={settings.redis_url}", flush=True)
    print(f"RISITI_METRICS={' '.join(_metrics_urls(settings))}", flush=True)


def _metrics_urls(settings: Settings) -> list[str]:
    """The api's /metrics, then the projector's and the worker's where their ports are on."""
    ports = (settings.projector_metrics_port, settings.worker_metrics_port)
    base = _local_url(settings).rsplit(":", 1)[0]
    return [f"{_local_url(settings)}/metrics"] + [f"{base}:{p}/metrics" for p in ports if p]


def _demo_account(settings: Settings) -> dict[str, str]:
    """The demo account of this folder; its keys are kept in .risiti/ so a restart reuses them."""
    path = Path(settings.home) / "demo-account.json"
    if path.exists():
        saved: dict[str, str] = json.loads(path.read_text())
        if saved.get("database_url") == settings.database_url:
            return saved
    demo = asyncio.run(_open_account(settings, "Demo Business"))
    demo["database_url"] = settings.database_url or ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(demo))
    path.chmod(0o600)
    return demo


if __name__ == "__main__":
    main()
