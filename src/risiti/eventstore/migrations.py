"""Numbered SQL migrations (`migrations/NNNN_name.sql`), each applied once, in order."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import asyncpg

# Any fixed number: it only has to be the same for every process that migrates.
_MIGRATION_LOCK = 7_261_841


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with the package, lowest number first."""
    folder = resources.files("risiti.eventstore") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


async def migrate(conn: asyncpg.Connection, *, up_to: int | None = None) -> list[Migration]:
    """Apply the migrations not applied yet (those numbered `up_to` at most, if given; tests of
    a migration's handling of older data stop before it); returns those it applied.

    An advisory lock makes concurrent starts (api, projector and worker together) safe.
    """
    applied = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in available_migrations():
            if migration.version not in done and (up_to is None or migration.version <= up_to):
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
                applied.append(migration)
    return applied
