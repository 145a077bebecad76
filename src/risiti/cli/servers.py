"""Where a command finds its servers: Settings from the environment or from embedded servers,
one connection to the log, the migrations every command applies first; and CannotRun, the
failure that is the operator's to fix."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from risiti.config import Settings, unknown_variables
from risiti.logs import configure_logging

if TYPE_CHECKING:
    import asyncpg

    from risiti.embedded import EmbeddedServers


log = logging.getLogger(__name__)


class CannotRun(Exception):
    """Raised by a command that cannot do its work for a reason outside Risiti's code: a server
    it cannot reach, a port already taken, no log where it looked. `main` prints it as one line
    and exits 1."""


def server_settings() -> tuple[Settings, EmbeddedServers | None]:
    """Settings with server URLs: from the environment, or from embedded servers."""
    settings = Settings()
    configure_logging(settings)
    warn_of_unknown_variables()
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


def warn_of_unknown_variables() -> None:
    """Say which RISITI_ variables of the environment no setting reads, one warning each."""
    for sentence in unknown_variables(os.environ):
        log.warning(sentence)


def log_settings() -> tuple[Settings, EmbeddedServers | None]:
    """Settings for the auditors' commands, which read the log only: RISITI_DATABASE_URL, or
    the embedded database of this folder if `risiti dev` made one. They never make one."""
    settings = Settings()
    warn_of_unknown_variables()
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


async def migrate_now(settings: Settings) -> list[object]:
    """Apply the migrations not applied yet; the ones applied."""
    from risiti.eventstore.migrations import migrate

    conn = await connect(settings, "migrate")
    try:
        return list(await migrate(conn))
    finally:
        await conn.close()


async def connect(settings: Settings, role: str) -> asyncpg.Connection:
    """One connection to the database; CannotRun, saying where, if it cannot be had."""
    import asyncpg

    from risiti.eventstore.database import connect

    try:
        return await connect(settings, role)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as failure:
        where = where_is(settings.database_url)
        reason = str(failure) or type(failure).__name__
        raise CannotRun(f"cannot reach PostgreSQL at {where}: {reason}") from None


def where_is(database_url: str | None) -> str:
    """Host, port and database of a URL, without its user and password."""
    parts = urlsplit(database_url or "")
    host = parts.hostname or parse_qs(parts.query).get("host", ["localhost"])[0]
    port = ""
    with contextlib.suppress(ValueError):
        port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"
