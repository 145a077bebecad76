"""The `risiti` command: dev, api, projector, replay, worker, migrate, accounts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from risiti.config import Settings
from risiti.process import freeze_startup_heap, use_fast_event_loop

if TYPE_CHECKING:
    from risiti.projections.runner import Projection

DESCRIPTION = "Risiti: an event-sourced invoicing ledger with async workers."


def main(argv: list[str] | None = None) -> None:
    use_fast_event_loop()
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        raise SystemExit(2)
    raise SystemExit(args.run(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="risiti", description=DESCRIPTION)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    dev = commands.add_parser(
        "dev",
        help="run api, projector and worker together, with embedded servers if needed",
        description="Run the whole service on this machine: api, projector and worker. Without "
        "RISITI_DATABASE_URL / RISITI_REDIS_URL it starts an embedded PostgreSQL and Redis "
        "under ./.risiti/, migrates, creates a demo account, and prints RISITI_URL, "
        "RISITI_TEST_KEY, RISITI_DATABASE_URL and RISITI_REDIS_URL, one per line. Ctrl-C stops "
        "everything; the next start reuses the data.",
    )
    dev.add_argument("--port", type=int, help="HTTP port of the API (default 8000)")
    dev.set_defaults(run=_dev)

    api = commands.add_parser(
        "api", help="serve the HTTP API", description="Serve the HTTP API (aiohttp)."
    )
    api.add_argument("--host", help="address to listen on (default RISITI_HOST or 127.0.0.1)")
    api.add_argument("--port", type=int, help="port to listen on (default RISITI_PORT or 8000)")
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
    return parser


def _settings() -> tuple[Settings, object | None]:
    """Settings with server URLs: from the environment, or from embedded servers."""
    settings = Settings()
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
    from risiti.eventstore.database import connect
    from risiti.eventstore.migrations import migrate

    conn = await connect(settings, "migrate")
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
    app = create_app(settings)
    app.on_startup.append(_freeze_startup_heap)
    web.run_app(app, host=settings.host, port=settings.port, print=None)


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
    try:
        result = await replay(
            pool,
            projections,
            check=check,
            progress=ProgressLine("replay"),
            database_url=settings.database_url,
        )
    finally:
        await pool.close()
    names = ", ".join(p.name for p in projections)
    print(
        f"\nreplayed {result.events} events into {names} in {result.seconds:.1f} s:"
        f" {result.events_per_second:,.0f} events/s",
        file=sys.stderr,
    )
    differences = {table: rows for table, rows in result.differences.items() if rows}
    for table, rows in differences.items():
        print(f"{table} differs from the log:", *(f"  {row}" for row in rows), sep="\n")
    if check and not differences:
        print("no difference: the live read models equal a rebuild from the log")
    return 1 if differences else 0


class ProgressLine:
    """A one-line progress bar on stderr, redrawn at most five times a second."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._started = time.monotonic()
        self._drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
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


def _worker(_: argparse.Namespace) -> None:
    from risiti.workers.running import run_worker

    settings, _servers = _settings()
    asyncio.run(_migrate_async(settings))
    # Risiti's own INFO lines: what the jobs did and, with the log providers (no SMTP server or
    # SMS gateway configured, as in `risiti dev`), the messages themselves.
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("risiti").setLevel(logging.INFO)
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
        opened = await open_account(Ledger(pool), name)
    finally:
        await pool.close()
    return {
        "account_id": str(opened.account_id),
        "test_key": opened.test_key,
        "live_key": opened.live_key,
    }


def _dev(args: argparse.Namespace) -> None:
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
        subprocess.Popen([sys.executable, "-m", "risiti.cli", role], env=env)
        for role in ("api", "projector", "worker")
    ]
    print(f"RISITI_URL={settings.base_url}")
    print(f"RISITI_TEST_KEY={demo['test_key']}")
    print(f"RISITI_DATABASE_URL={settings.database_url}")
    print(f"RISITI_REDIS_URL={settings.redis_url}", flush=True)
    try:
        _wait_for_children(children)
    finally:
        _stop_children(children)
        if servers is not None:
            servers.stop()  # type: ignore[attr-defined]


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


def _wait_for_children(children: list[subprocess.Popen[bytes]]) -> None:
    stop = {"now": False}

    def on_signal(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    import time

    while not stop["now"] and all(child.poll() is None for child in children):
        time.sleep(0.2)


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


if __name__ == "__main__":
    main()
