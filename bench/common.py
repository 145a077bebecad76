"""What the benchmarks share: which server to run on, and its address as psycopg wants it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from risiti.config import Settings
from risiti.embedded import EmbeddedServers, database_url_for, start_embedded_servers
from risiti.eventstore.database import create_database, drop_database


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
def scratch_database() -> Iterator[str]:
    """The URL of a fresh `risiti_bench_<hex>` database, dropped afterwards (on the server of
    RISITI_DATABASE_URL, or on an embedded one, stopped afterwards)."""
    server, embedded = server_url()
    name = f"risiti_bench_{secrets.token_hex(6)}"
    try:
        asyncio.run(create_database(server, name))
        try:
            yield database_url_for(server, name)
        finally:
            asyncio.run(drop_database(server, name))
    finally:
        if embedded is not None:
            embedded.stop()
