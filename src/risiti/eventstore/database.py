"""Connection pools with the timeouts that keep the cluster-wide xid horizon moving (DESIGN §8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:  # the replay's processes start faster without pydantic-settings
    from risiti.config import Settings


def server_settings(settings: Settings, application_name: str) -> dict[str, str]:
    """Session settings for every connection Risiti opens."""
    return {
        "application_name": application_name,
        "statement_timeout": str(settings.statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.idle_in_transaction_timeout_ms),
    }


async def create_pool(
    settings: Settings,
    application_name: str,
    *,
    max_size: int | None = None,
    stateless: bool = False,
) -> asyncpg.Pool:
    """Open a pool on `settings.database_url`. The users of a `stateless` pool leave nothing
    in a session (no LISTEN, no SET, no session-level lock), so a connection goes back to the
    pool without asyncpg's reset query: a round trip, and a fifth of an API request's time."""
    if settings.database_url is None:
        raise RuntimeError("RISITI_DATABASE_URL is not set")
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=min(settings.pool_min_size, max_size or settings.pool_max_size),
        max_size=max_size or settings.pool_max_size,
        server_settings=server_settings(settings, application_name),
        reset=_nothing_to_reset if stateless else None,
    )
    assert pool is not None
    return pool


async def _nothing_to_reset(_: asyncpg.Connection) -> None:
    """asyncpg has already rolled back any transaction left open; nothing else stays."""


async def connect(settings: Settings, application_name: str) -> asyncpg.Connection:
    """Open one connection (for LISTEN, which needs a connection of its own)."""
    if settings.database_url is None:
        raise RuntimeError("RISITI_DATABASE_URL is not set")
    return await asyncpg.connect(
        settings.database_url, server_settings=server_settings(settings, application_name)
    )


async def create_database(server_url: str, name: str, *, exist_ok: bool = False) -> None:
    """Create database `name` on the server of `server_url` (a URL of any of its databases)."""
    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not (exists and exist_ok):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(server_url: str, name: str) -> None:
    """Drop database `name`, ending the sessions still connected to it."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
