"""Auditors' commands (docs/auditing.md): verify, checkpoint, export, history. They read the
log of RISITI_DATABASE_URL, or of this folder's embedded database, and never make one."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from risiti.cli.progress import ProgressLine
from risiti.cli.servers import (
    CannotRun,
    connect,
    log_settings,
    migrate_now,
    server_settings,
    where_is,
)
from risiti.config import Settings

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def add_audit_commands(commands: Commands) -> None:
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


def _instant(text: str) -> datetime:
    """An ISO 8601 instant from the command line; UTC where it names no offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _verify(args: argparse.Namespace) -> int:
    settings, _servers = log_settings()
    asyncio.run(_refuse_without_log(settings, "verify", args.account))
    asyncio.run(migrate_now(settings))
    return asyncio.run(_verify_async(settings, args.account, args.since))


async def _refuse_without_log(
    settings: Settings, role: str, account_id: UUID | None = None
) -> None:
    """CannotRun, saying where it looked, unless the database holds a Risiti log (of
    `account_id`, if given): an auditor pointed at the wrong database must not read "intact"."""
    from risiti.eventstore.verification import missing_log

    conn = await connect(settings, role)
    try:
        reason = await missing_log(conn, account_id)
    finally:
        await conn.close()
    if reason is not None:
        where = where_is(settings.database_url)
        raise CannotRun(f"no Risiti log in PostgreSQL at {where}: {reason}")


async def _verify_async(settings: Settings, account_id: UUID | None, since: int | None) -> int:
    from risiti.eventstore.verification import verify_log

    conn = await connect(settings, "verify")
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
    settings, _servers = server_settings()
    asyncio.run(migrate_now(settings))
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
    settings, _servers = log_settings()
    asyncio.run(_refuse_without_log(settings, "export", args.account))
    asyncio.run(migrate_now(settings))
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

    conn = await connect(settings, "export")
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

    settings, _servers = log_settings()
    asyncio.run(_refuse_without_log(settings, "history"))
    asyncio.run(migrate_now(settings))
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
