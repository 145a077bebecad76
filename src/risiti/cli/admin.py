"""Operators' commands: migrate, accounts create, replay (rebuild or --check the read models)
and parked (list or --retry what the followers could not apply)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING
from uuid import UUID

from risiti.cli.progress import ProgressLine
from risiti.cli.servers import migrate_now, server_settings
from risiti.config import Settings

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
    from risiti.projections.runner import Projection


def add_migrate(commands: Commands) -> None:
    commands.add_parser(
        "migrate",
        help="apply the database migrations",
        description="Apply the numbered SQL migrations not applied yet.",
    ).set_defaults(run=_migrate)


def add_accounts(commands: Commands) -> None:
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


def add_replay(commands: Commands) -> None:
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


def add_parked(commands: Commands) -> None:
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

    settings, _servers = server_settings()
    asyncio.run(migrate_now(settings))
    if args.retry:
        return asyncio.run(retry_parked(settings, args.follower, args.aggregate))
    return asyncio.run(list_parked(settings, args.follower, args.aggregate))


def _migrate(_: argparse.Namespace) -> None:
    settings, _servers = server_settings()
    applied = asyncio.run(migrate_now(settings))
    print(f"applied {len(applied)} migration(s)" if applied else "already up to date")


def _replay(args: argparse.Namespace) -> int:
    from risiti.projections.runner import all_projections

    known = {projection.name: projection for projection in all_projections()}
    unknown = sorted(set(args.names) - set(known))
    if unknown:
        print(f"risiti replay: no projection named {', '.join(unknown)}", file=sys.stderr)
        print(f"known projections: {', '.join(known)}", file=sys.stderr)
        return 2
    settings, _servers = server_settings()
    asyncio.run(migrate_now(settings))
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


def _accounts_create(args: argparse.Namespace) -> None:
    settings, _servers = server_settings()
    asyncio.run(migrate_now(settings))
    opened = asyncio.run(open_account_keys(settings, args.name))
    print(f"account_id={opened['account_id']}")
    print(f"test_key={opened['test_key']}")
    print(f"live_key={opened['live_key']}")


async def open_account_keys(settings: Settings, name: str) -> dict[str, str]:
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
