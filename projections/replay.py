"""`risiti replay`: rebuild projections from position zero into fresh tables, then swap them in
(or, with `check`, compare them with the live ones) at one position of the log.

The bulk of the log is replayed while the live projections keep running. At the end the live
projections' positions are locked, both sides are brought to the same place in the log, and the
swap (or comparison) happens in that one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from risiti.eventstore.recorder import LOG_START, LogPosition, read_log
from risiti.projections.runner import BatchApplier, Projection, follower_name

REPLAY_SCHEMA = "risiti_replay"
REPLAY_BATCH = 5000
DIFFERENCES_SHOWN = 20

Progress = Callable[[int, int], None]
"""Called with (events replayed so far, events in the log when the replay began)."""


@dataclass
class ReplayResult:
    events: int = 0
    seconds: float = 0.0
    differences: dict[str, list[str]] = field(default_factory=dict)
    """Per table, the rows that differ (empty when the live tables equal the replayed ones)."""

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def replay(
    pool: asyncpg.Pool,
    projections: list[Projection],
    *,
    check: bool = False,
    progress: Progress | None = None,
) -> ReplayResult:
    """Rebuild `projections` from the whole log; swap them in, or compare when `check`."""
    started = time.perf_counter()
    result = ReplayResult()
    async with pool.acquire() as replica, pool.acquire() as live:
        await _fresh_tables(replica, projections)
        total = await live.fetchval("SELECT count(*) FROM events")
        applier = BatchApplier(projections)
        position = await _replay_until(replica, applier, LOG_START, None, result, total, progress)
        async with live.transaction():
            positions = await _lock_positions(live, projections)
            target = await _horizon(live)
            await _replay_until(replica, applier, position, target, result, total, progress)
            for projection, at in zip(projections, positions, strict=True):
                await _replay_until(live, BatchApplier([projection]), at, target, None, 0, None)
            tables = [table for p in projections for table in p.tables]
            if check:
                result.differences = {t: await _differences(live, t) for t in tables}
            else:
                await _swap(live, tables)
            await _set_positions(live, projections, target)
        await replica.execute(f"DROP SCHEMA {REPLAY_SCHEMA} CASCADE")
    result.seconds = time.perf_counter() - started
    return result


async def _fresh_tables(conn: asyncpg.Connection, projections: list[Projection]) -> None:
    """Empty copies of the projections' tables, which this connection's statements then use."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {REPLAY_SCHEMA} CASCADE")
    await conn.execute(f"CREATE SCHEMA {REPLAY_SCHEMA}")
    for table in (t for p in projections for t in p.tables):
        await conn.execute(
            f"CREATE TABLE {REPLAY_SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)"
        )
    await conn.execute(f"SET search_path TO {REPLAY_SCHEMA}, public")


async def _replay_until(
    conn: asyncpg.Connection,
    applier: BatchApplier,
    after: LogPosition,
    up_to: LogPosition | None,
    result: ReplayResult | None,
    total: int,
    progress: Progress | None,
) -> LogPosition:
    """Apply the log after `after` (up to `up_to`, else to the horizon); returns where it ended."""
    while batch := await read_log(conn, after, REPLAY_BATCH, up_to):
        async with conn.transaction():
            await applier(conn, batch)
        after = batch[-1].log_position
        if result is not None:
            result.events += len(batch)
            if progress is not None:
                progress(result.events, total)
    return after


async def _lock_positions(
    conn: asyncpg.Connection, projections: list[Projection]
) -> list[LogPosition]:
    """Each live projection's position, locked: its runner waits until the swap commits."""
    positions = []
    for projection in projections:
        name = follower_name(projection)
        await conn.execute(
            "INSERT INTO log_positions (follower) VALUES ($1) ON CONFLICT DO NOTHING", name
        )
        row = await conn.fetchrow(
            "SELECT transaction_id, position FROM log_positions WHERE follower = $1 FOR UPDATE",
            name,
        )
        positions.append(LogPosition(row["transaction_id"], row["position"]))
    return positions


async def _horizon(conn: asyncpg.Connection) -> LogPosition:
    """The last place of the log that every reader can see now."""
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM events"
        " WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
        " ORDER BY transaction_id DESC, position DESC LIMIT 1"
    )
    return LogPosition(row["transaction_id"], row["position"]) if row else LOG_START


async def _differences(conn: asyncpg.Connection, table: str) -> list[str]:
    """Rows only the live table has, and rows only the replayed one has."""
    found = []
    for label, left, right in (
        ("only live", f"public.{table}", f"{REPLAY_SCHEMA}.{table}"),
        ("only replayed", f"{REPLAY_SCHEMA}.{table}", f"public.{table}"),
    ):
        rows = await conn.fetch(
            f"SELECT row_to_json(d)::text AS row FROM (SELECT * FROM {left}"
            f" EXCEPT ALL SELECT * FROM {right}) d LIMIT {DIFFERENCES_SHOWN}"
        )
        found += [f"{label}: {row['row']}" for row in rows]
    return found


async def _swap(conn: asyncpg.Connection, tables: list[str]) -> None:
    for table in tables:
        await conn.execute(f"TRUNCATE public.{table}")
        await conn.execute(f"INSERT INTO public.{table} SELECT * FROM {REPLAY_SCHEMA}.{table}")


async def _set_positions(
    conn: asyncpg.Connection, projections: list[Projection], position: LogPosition
) -> None:
    await conn.execute(
        "UPDATE log_positions SET transaction_id = $2, position = $3 WHERE follower = ANY($1)",
        [follower_name(p) for p in projections],
        position.transaction_id,
        position.position,
    )
