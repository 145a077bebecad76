"""`risiti replay`: rebuild projections from position zero into fresh tables, then swap them in
(or, with `check`, compare them with the live ones) at one position of the log.

The bulk of the log is replayed while the live projections keep running. At the end the live
projections' positions are locked, both sides are brought to the same place in the log, and the
swap (or comparison) happens in that one transaction.

An aggregate a live projection parked (eventstore/parked.py) is rebuilt up to the event it
parked, as the live table holds it, so that a check compares like with like and a swap leaves
`risiti parked --retry` its events to apply. Events past the rebuild's start get the live
follower's treatment: one that cannot be applied parks its aggregate.

It runs past 400 lines because the rebuild, the catch-up under lock and the swap or comparison
must share one view of the positions and the parked aggregates; parallel_replay.py holds only
the per-core reading.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from risiti.eventstore.parked import (
    apply_or_park,
    before_parked,
    copy_parked,
    is_transient,
    parked_from,
)
from risiti.eventstore.recorder import (
    LOG_START,
    LogPosition,
    RecordedEvent,
    read_log,
    read_log_ahead,
)
from risiti.eventstore.subscription import Partition, add_position_rows
from risiti.projections.parallel_replay import replay_in_processes
from risiti.projections.runner import BatchApplier, Changes, Projection, catch_up, follower_name

REPLAY_SCHEMA = "risiti_replay"
REPLAY_BATCH = 5000
DIFFERENCES_SHOWN = 20
INDEX_BUILD_MEMORY = "256MB"
# Below this many events, starting worker processes costs more than they save.
PROCESSES_FROM_EVENTS = 50_000

Progress = Callable[[int, int], None]
"""Called with (events replayed so far, events in the log when the replay began)."""
Apply = Callable[[asyncpg.Connection, list[RecordedEvent]], Awaitable[None]]


Parked = dict[UUID, int]
"""The aggregates a rebuild leaves where the live projection parked them: each with the first
version it did not apply."""


@dataclass
class ReplayResult:
    events: int = 0
    seconds: float = 0.0
    differences: dict[str, list[str]] = field(default_factory=dict)
    """Per table, the rows that differ (empty when the live tables equal the replayed ones)."""
    parked: dict[str, int] = field(default_factory=dict)
    """Per follower, how many aggregates stay parked (left where it parked them)."""

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def replay(
    pool: asyncpg.Pool,
    projections: list[Projection],
    *,
    check: bool = False,
    progress: Progress | None = None,
    database_url: str | None = None,
    parallel_from: int = PROCESSES_FROM_EVENTS,
) -> ReplayResult:
    """Rebuild `projections` from the whole log; swap them in, or compare when `check`.

    With `database_url`, a log of `parallel_from` events or more is replayed by a process per
    core."""
    started = time.perf_counter()
    try:
        result = await _replay_around_parked(
            pool, projections, check, progress, database_url, parallel_from
        )
    except Exception as error:
        if is_transient(error):
            raise
        # The rebuild met an event it cannot apply that the live projections have not reached
        # yet: they reach it and park its aggregate, and the rebuild leaves it out in turn.
        for projection in projections:
            await catch_up(pool, projection)
        result = await _replay_around_parked(
            pool, projections, check, progress, database_url, parallel_from
        )
    for projection in projections:
        name = follower_name(projection)
        result.parked[name] = len(await parked_from(pool, name))
    result.seconds = time.perf_counter() - started
    return result


async def _replay_around_parked(
    pool: asyncpg.Pool,
    projections: list[Projection],
    check: bool,
    progress: Progress | None,
    database_url: str | None,
    parallel_from: int,
) -> ReplayResult:
    parked = [await parked_from(pool, follower_name(p)) for p in projections]
    if all(p == parked[0] for p in parked):
        return await _replay(
            pool, projections, parked[0], check, progress, database_url, parallel_from
        )
    # One fold feeds every projection of a rebuild, so projections that parked different
    # aggregates are rebuilt one after the other, each swapped (or checked) on its own.
    merged = ReplayResult()
    for projection, its_parked in zip(projections, parked, strict=True):
        result = await _replay(
            pool, [projection], its_parked, check, progress, database_url, parallel_from
        )
        merged.events = max(merged.events, result.events)
        merged.differences.update(result.differences)
    return merged


async def _replay(
    pool: asyncpg.Pool,
    projections: list[Projection],
    parked: Parked,
    check: bool,
    progress: Progress | None,
    database_url: str | None,
    parallel_from: int,
) -> ReplayResult:
    result = ReplayResult()
    tables = [table for p in projections for table in p.tables]
    async with pool.acquire() as reader, pool.acquire() as loader, pool.acquire() as live:
        total = await live.fetchval("SELECT count(*) FROM events")
        applier = BatchApplier(projections)
        async with _replica(pool) as replica:
            several = total >= parallel_from and (os.cpu_count() or 1) > 1
            parallel = database_url if several else None
            deferred = await _fresh_tables(replica, tables, copied=parallel is not None)
            position = await _bulk(
                reader, loader, replica, applier, parked, result, total, progress, parallel
            )
            await _create_indexes([replica, loader], deferred, tables)
            async with live.transaction():
                positions = await _lock_positions(live, projections)
                target = await _horizon(live)
                if check:
                    # The live tables are brought to the same place of the log to be compared,
                    # parking what their followers would park; the rebuild leaves that out.
                    for projection, at in zip(projections, positions, strict=True):
                        await _replay_until(live, _parking(projection), at, target)
                    name = follower_name(projections[0])
                    parked = await parked_from(live, name)
                    await _replay_until(
                        replica,
                        _skipping(applier, parked),
                        position,
                        target,
                        result,
                        total,
                        progress,
                    )
                    result.differences = {t: await _differences(live, t) for t in tables}
                else:
                    # The rebuild takes the live followers' place: it parks what they would.
                    await _replay_until(
                        replica,
                        _parking_all(applier, projections),
                        position,
                        target,
                        result,
                        total,
                        progress,
                    )
                    await _swap(live, tables)
                await _set_positions(live, projections, target)
        await live.execute(f"DROP SCHEMA IF EXISTS {REPLAY_SCHEMA} CASCADE")
    return result


def _skipping(applier: BatchApplier, parked: Parked) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        kept = before_parked(batch, parked)
        if kept:
            await applier(conn, kept)

    return apply


def _parking(projection: Projection) -> Apply:
    """Apply as the live follower of `projection` does, parking what it cannot apply."""
    applier, name = BatchApplier([projection]), follower_name(projection)

    async def apply(conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        await apply_or_park(conn, name, batch, applier, any_parked=True)

    return apply


def _parking_all(applier: BatchApplier, projections: list[Projection]) -> Apply:
    """`_parking` for projections rebuilt together (they have parked the same aggregates)."""
    name = follower_name(projections[0])
    others = [follower_name(p) for p in projections[1:]]

    async def apply(conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        await apply_or_park(conn, name, batch, applier, any_parked=True)
        if others:
            await copy_parked(conn, name, others, [r.originator_id for r in batch])

    return apply


async def _fresh_tables(
    conn: asyncpg.Connection, tables: list[str], *, copied: bool
) -> list[IndexBuild]:
    """Empty copies of the tables in the replay schema (`conn` looks there first), with only
    the unique indexes that upserts need, or none when the rows are `copied` in once each;
    returns the other indexes' builds, run once the rows are in (far cheaper than keeping them
    up to date row by row)."""
    deferred = []
    for table in tables:
        await conn.execute(
            f"CREATE TABLE {REPLAY_SCHEMA}.{table}"
            f" (LIKE public.{table} INCLUDING ALL EXCLUDING INDEXES)"
        )
        for build in await _index_builds(conn, table):
            if build.unique and not copied:
                await conn.execute(build.sql)
            else:
                deferred.append(build)
    return deferred


@dataclass(frozen=True)
class IndexBuild:
    """One of a live table's indexes, as the statement that builds it in the replay schema
    under the same name (so that migrations naming it keep working after the swap), made the
    primary key again if it is the live table's."""

    table: str
    name: str
    unique: bool
    primary: bool
    method: str
    definition: str

    @property
    def sql(self) -> str:
        if not self.primary:
            return self.definition
        return (
            f"{self.definition}; ALTER TABLE {REPLAY_SCHEMA}.{self.table}"
            f" ADD CONSTRAINT {self.name} PRIMARY KEY USING INDEX {self.name}"
        )


async def _index_builds(conn: asyncpg.Connection, table: str) -> list[IndexBuild]:
    rows = await conn.fetch(
        "SELECT c.relname, i.indisunique, i.indisprimary, am.amname,"
        " pg_get_indexdef(i.indexrelid) AS definition"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
        " WHERE i.indrelid = $1::regclass",
        f"public.{table}",
    )
    return [
        IndexBuild(
            table,
            row["relname"],
            row["indisunique"],
            row["indisprimary"],
            row["amname"],
            row["definition"].replace(" ON public.", f" ON {REPLAY_SCHEMA}.", 1),
        )
        for row in rows
    ]


async def _create_indexes(
    connections: list[asyncpg.Connection], builds: list[IndexBuild], tables: list[str]
) -> None:
    """Build the deferred indexes, one per connection at a time, each connection taking the
    next one as it is done, the longest first (so that the last to finish are short ones);
    each table is analyzed once its last index is in (ANALYZE waits for a table's index
    builds, and it reads the expression indexes' values too).

    The primary keys come first, all of them: attaching one to its table locks the table
    against every other build. The builds run side by side on the connections already, so
    none takes parallel workers besides: they would only contend with the other builds. No
    build's commit waits for the disk: the swap's transaction commits durably, after them."""
    for conn in connections:
        await conn.execute(
            f"SET maintenance_work_mem = '{INDEX_BUILD_MEMORY}';"
            " SET max_parallel_maintenance_workers = 0; SET synchronous_commit = off"
        )
    await _build_side_by_side(connections, [b for b in builds if b.primary], [])
    await _build_side_by_side(connections, await _longest_first(connections[0], builds), tables)
    for conn in connections:
        await conn.execute(
            "RESET maintenance_work_mem; RESET max_parallel_maintenance_workers;"
            " RESET synchronous_commit"
        )


async def _build_side_by_side(
    connections: list[asyncpg.Connection], builds: list[IndexBuild], tables: list[str]
) -> None:
    """Run `builds` in their order on the connections, then ANALYZE each of `tables` as soon
    as none of its builds is left."""
    waiting = list(builds)
    building = Counter(b.table for b in builds)
    to_analyze = [table for table in tables if not building[table]]

    async def work(conn: asyncpg.Connection) -> None:
        while waiting or to_analyze:
            if to_analyze:
                await conn.execute(f"ANALYZE {REPLAY_SCHEMA}.{to_analyze.pop(0)}")
                continue
            build = waiting.pop(0)
            await conn.execute(build.sql)
            building[build.table] -= 1
            if not building[build.table] and build.table in tables:
                to_analyze.append(build.table)

    await asyncio.gather(*(work(conn) for conn in connections))


async def _longest_first(conn: asyncpg.Connection, builds: list[IndexBuild]) -> list[IndexBuild]:
    """The builds other than primary keys, of the largest tables first, and of each table the
    GIN indexes first: a GIN build takes several times a B-tree's on the same rows."""
    sizes = {
        table: await conn.fetchval(
            "SELECT pg_relation_size($1::regclass)", f"{REPLAY_SCHEMA}.{table}"
        )
        for table in {b.table for b in builds}
    }
    others = [b for b in builds if not b.primary]
    return sorted(others, key=lambda b: (-sizes[b.table], b.method != "gin"))


@asynccontextmanager
async def _replica(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection whose statements name the replay schema's tables first."""
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {REPLAY_SCHEMA} CASCADE")
        await conn.execute(f"CREATE SCHEMA {REPLAY_SCHEMA}")
        await conn.execute(f"SET search_path TO {REPLAY_SCHEMA}, public")
        try:
            yield conn
        finally:
            await conn.execute("RESET search_path")


async def _bulk(
    reader: asyncpg.Connection,
    loader: asyncpg.Connection,
    replica: asyncpg.Connection,
    applier: BatchApplier,
    parked: Parked,
    result: ReplayResult,
    total: int,
    progress: Progress | None,
    database_url: str | None,
) -> LogPosition:
    """Replay up to the horizon: in a process per core when given the database's URL,
    otherwise here, batch by batch while the database writes the one before."""
    if database_url is None:
        return await _pipeline(
            reader,
            replica,
            lambda batch: applier.changes(loader, batch, in_thread=True),
            parked,
            result,
            total,
            progress,
        )
    target = await _horizon(reader)

    def report(events: int) -> None:
        result.events = events
        if progress is not None:
            progress(events, total)

    names = [p.name for p in applier.projections]
    await asyncio.to_thread(
        replay_in_processes,
        database_url,
        names,
        REPLAY_SCHEMA,
        target,
        os.cpu_count() or 1,
        report,
        parked,
    )
    return target


async def _pipeline(
    reader: asyncpg.Connection,
    replica: asyncpg.Connection,
    changes_of: Callable[[list[RecordedEvent]], Awaitable[Changes]],
    parked: Parked,
    result: ReplayResult,
    total: int,
    progress: Progress | None,
) -> LogPosition:
    after = LOG_START
    writing: asyncio.Task[None] | None = None
    try:
        async for batch in read_log_ahead(reader, LOG_START, REPLAY_BATCH):
            after = batch[-1].log_position
            changes = await changes_of(before_parked(batch, parked))
            if writing is not None:
                await writing
            writing = asyncio.create_task(_write(replica, changes))
            result.events += len(batch)
            if progress is not None:
                progress(result.events, total)
        if writing is not None:
            await writing
    finally:
        # A batch that cannot be folded ends the pipeline: its connection is not left writing.
        if writing is not None and not writing.done():
            writing.cancel()
            await asyncio.gather(writing, return_exceptions=True)
    return after


async def _write(conn: asyncpg.Connection, changes: Changes) -> None:
    async with conn.transaction():
        await BatchApplier.write(conn, changes)


async def _replay_until(
    conn: asyncpg.Connection,
    apply: Apply,
    after: LogPosition,
    up_to: LogPosition | None,
    result: ReplayResult | None = None,
    total: int = 0,
    progress: Progress | None = None,
) -> LogPosition:
    """Apply the log after `after` up to `up_to`, one transaction a batch; returns where it
    ended."""
    while batch := await read_log(conn, after, REPLAY_BATCH, up_to):
        async with conn.transaction():
            await apply(conn, batch)
        after = batch[-1].log_position
        if result is not None:
            result.events += len(batch)
            if progress is not None:
                progress(result.events, total)
    return after


async def _lock_positions(
    conn: asyncpg.Connection, projections: list[Projection]
) -> list[LogPosition]:
    """Each live projection's position, locked (every partition's row, in one order): its
    runners wait until the swap commits. Partitioned, the least advanced of its rows."""
    positions: dict[str, LogPosition] = {}
    for name in sorted(follower_name(p) for p in projections):
        rows = await conn.fetch(
            "SELECT transaction_id, position FROM log_positions"
            " WHERE split_part(follower, '@', 1) = $1 ORDER BY follower FOR UPDATE",
            name,
        )
        if not rows:
            await add_position_rows(conn, name, [Partition()])
            rows = await conn.fetch(
                "SELECT transaction_id, position FROM log_positions WHERE follower = $1 FOR UPDATE",
                name,
            )
        positions[name] = min(LogPosition(r["transaction_id"], r["position"]) for r in rows)
    return [positions[follower_name(p)] for p in projections]


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
        # Compared as JSON text: json columns have no equality, and text is what is served.
        rows = await conn.fetch(
            f"SELECT row_to_json(l)::text AS row FROM {left} l EXCEPT ALL"
            f" SELECT row_to_json(r)::text FROM {right} r LIMIT {DIFFERENCES_SHOWN}"
        )
        found += [f"{label}: {row['row']}" for row in rows]
    return found


async def _swap(conn: asyncpg.Connection, tables: list[str]) -> None:
    """The rebuilt tables take the live ones' place, indexes and names included."""
    for table in tables:
        await conn.execute(f"DROP TABLE public.{table}")
        await conn.execute(f"ALTER TABLE {REPLAY_SCHEMA}.{table} SET SCHEMA public")


async def _set_positions(
    conn: asyncpg.Connection, projections: list[Projection], position: LogPosition
) -> None:
    await conn.execute(
        "UPDATE log_positions SET transaction_id = $2, position = $3"
        " WHERE split_part(follower, '@', 1) = ANY($1)",
        [follower_name(p) for p in projections],
        position.transaction_id,
        position.position,
    )
