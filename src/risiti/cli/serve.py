"""The commands that serve: dev (everything, supervised), api, projector and worker. Each
builds its process with that process's composition root (`risiti.bootstrap`) and runs it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from risiti.cli.admin import open_account_keys
from risiti.cli.servers import CannotRun, migrate_now, server_settings
from risiti.config import Settings

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
    from aiohttp import web

    from risiti.embedded import EmbeddedServers
    from risiti.supervisor import WatchedServer

LISTEN_BACKLOG = 128
"""Connections waiting to be accepted on the shared socket: aiohttp's own default."""


def add_dev(commands: Commands) -> None:
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
    dev.add_argument(
        "--api-processes",
        type=int,
        default=default_api_processes(),
        metavar="N",
        help="serve the API from N processes, as `risiti api --processes N` (default: one per "
        f"core, {default_api_processes()} here)",
    )
    dev.set_defaults(run=_dev)


def add_api(commands: Commands) -> None:
    api = commands.add_parser(
        "api", help="serve the HTTP API", description="Serve the HTTP API (aiohttp)."
    )
    api.add_argument("--host", help="address to listen on (default RISITI_HOST or 127.0.0.1)")
    api.add_argument("--port", type=int, help="port to listen on (default RISITI_PORT or 8000)")
    api.add_argument(
        "--processes",
        type=int,
        default=default_api_processes(),
        metavar="N",
        help="serve from N processes sharing one listening socket, each taking new connections "
        "while it holds no more than the others (default: one per core, "
        f"{default_api_processes()} here)",
    )
    # How --processes starts its children (risiti.api.shared_port); not for people.
    api.add_argument("--listening-fd", type=int, help=argparse.SUPPRESS)
    api.add_argument("--connection-counts", type=Path, help=argparse.SUPPRESS)
    api.add_argument("--slot", type=int, default=0, help=argparse.SUPPRESS)
    api.set_defaults(run=_api)


def add_projector(commands: Commands) -> None:
    commands.add_parser(
        "projector",
        help="keep the read models up to date and dispatch webhooks",
        description="Follow the event log: apply every event to the read models (invoice_list, "
        "balances) and turn events into webhook deliveries, each exactly once, from one read "
        "and one fold of each batch. Projectors on one database share the log's "
        "RISITI_PROJECTOR_PARTITIONS partitions; one takes over those of another that dies.",
    ).set_defaults(run=_projector)


def add_worker(commands: Commands) -> None:
    commands.add_parser(
        "worker",
        help="run the ARQ worker (webhook delivery, sending invoices and reminders)",
        description="Run the ARQ worker that delivers webhooks and sends invoices by email and "
        "text message, with their sweepers and the overdue and reminder jobs.",
    ).set_defaults(run=_worker)


def default_api_processes() -> int:
    """One api process per core: measured with bench/http.py (docs/operations.md, "How many
    api processes"), two processes on two cores serve more creates a second than one."""
    return os.cpu_count() or 1


def _api(args: argparse.Namespace) -> None:
    from aiohttp import web

    from risiti.bootstrap import api_app

    settings, _servers = server_settings()
    settings = settings.model_copy(
        update={k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    )
    asyncio.run(migrate_now(settings))
    if args.processes > 1:
        _serve_from_processes(settings, args.processes)
        return
    app = api_app(settings)
    if args.listening_fd is not None:
        _serve_as_child(app, args)
        return
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None)
    except OSError as failure:
        if failure.errno != errno.EADDRINUSE:
            raise
        raise CannotRun(f"port {settings.port} is taken (on {settings.host})") from None


def _serve_as_child(app: web.Application, args: argparse.Namespace) -> None:
    from risiti.api.shared_port import ConnectionCounts, serve_in_turn

    counts = ConnectionCounts(args.connection_counts, args.slot)
    serve_in_turn(app, args.listening_fd, counts)


def _serve_from_processes(settings: Settings, processes: int) -> None:
    """`risiti api` in `processes` children on one listening socket; stops them all when one
    stops, and exits as that one did (1 for a port another program holds, like one process)."""
    from risiti.api.shared_port import ConnectionCounts
    from risiti.metrics import shared_metrics_directory
    from risiti.supervisor import (
        dies_with_its_parent,
        first_failure,
        stop_processes,
        wait_for_any_exit,
    )

    listening = _listening_socket(settings.host, settings.port)
    with shared_metrics_directory() as env, tempfile.TemporaryDirectory() as directory:
        counts = Path(directory) / "connections"
        ConnectionCounts.create(counts, processes)
        command = [sys.executable, "-m", "risiti.cli", "api", "--processes", "1"]
        command += ["--listening-fd", str(listening.fileno()), "--connection-counts", str(counts)]
        with listening:
            # Killed outright (SIGKILL), this process could not stop its children; the kernel
            # does.
            children = [
                subprocess.Popen(
                    [*command, "--slot", str(slot)],
                    env=env,
                    preexec_fn=dies_with_its_parent,
                    pass_fds=(listening.fileno(),),
                )
                for slot in range(processes)
            ]
        try:
            wait_for_any_exit(children)
        finally:
            stop_processes(children)
    failed = first_failure(children)
    if failed:
        raise SystemExit(failed)


def _listening_socket(host: str, port: int) -> socket.socket:
    """The socket the children share, listening already, so that a client connecting before
    they have started waits in its backlog; or CannotRun if another program holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
    except OSError as failure:
        if failure.errno != errno.EADDRINUSE:
            raise
        raise CannotRun(f"port {port} is taken (on {host})") from None


def _projector(_: argparse.Namespace) -> None:
    from risiti.bootstrap import run_projector

    settings, _servers = server_settings()
    asyncio.run(migrate_now(settings))
    # Ctrl-C (or `risiti dev` passing it on) is the way to stop it: no traceback for that.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_projector(settings))


def _worker(_: argparse.Namespace) -> None:
    from risiti.bootstrap import run_worker

    settings, _servers = server_settings()
    asyncio.run(migrate_now(settings))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings))


def _dev(args: argparse.Namespace) -> int:
    from risiti.supervisor import Child, Supervisor, answers_http

    settings, servers = server_settings()
    if args.port:
        settings = settings.model_copy(update={"port": args.port})
    asyncio.run(migrate_now(settings))
    demo = _demo_account(settings)
    env = {
        **os.environ,
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
        "RISITI_PORT": str(settings.port),
        "RISITI_HOST": settings.host,
    }
    api = [sys.executable, "-m", "risiti.cli", "api", "--processes", str(args.api_processes)]
    children = [Child("api", api, env)] + [
        Child(role, [sys.executable, "-m", "risiti.cli", role], env)
        for role in ("projector", "worker")
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
    demo = asyncio.run(open_account_keys(settings, "Demo Business"))
    demo["database_url"] = settings.database_url or ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(demo))
    path.chmod(0o600)
    return demo
