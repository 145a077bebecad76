"""Following the log: read in order after a tracked position, woken by LISTEN/NOTIFY.

Notifications only shorten the wait; correctness comes from re-reading after the tracked
position, so a lost notification (or a transaction that commits while nothing listens) costs at
most one poll interval. An event a follower cannot apply parks its aggregate (parked.py) instead
of stopping the follower.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import asyncpg

from risiti.eventstore.database import connect
from risiti.eventstore.folding import AggregateFolder, Folded
from risiti.eventstore.parked import (
    BatchHandler,
    Retried,
    apply_or_park,
    is_transient,
    parked_among,
    retry_parked,
)
from risiti.eventstore.recorder import NOTIFY_CHANNEL, LogPosition, RecordedEvent, read_log

if TYPE_CHECKING:  # the replay's processes start faster without pydantic-settings
    from risiti.config import Settings


class LogWakeups:
    """Wakes a follower when events are appended, or after `poll_interval` at the latest."""

    def __init__(self, settings: Settings, application_name: str) -> None:
        self._settings = settings
        self._application_name = application_name
        self._event = asyncio.Event()
        self._waiters: list[asyncio.Event] = [self._event]
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> LogWakeups:
        await self._listen()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def wait(self) -> None:
        """Return when a notification arrived since the last call, or after a poll interval."""
        await self._wait(self._event)

    def waiter(self) -> Callable[[], Awaitable[None]]:
        """A `wait` of its own, for one of several followers sharing this connection: each is
        woken by every notification."""
        event = asyncio.Event()
        self._waiters.append(event)
        return lambda: self._wait(event)

    async def _wait(self, event: asyncio.Event) -> None:
        if self._conn is None or self._conn.is_closed():
            await self._reconnect()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
        # that arrives as the event is set, and the follower would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._settings.poll_interval):
                await event.wait()
        event.clear()

    async def _listen(self) -> None:
        self._conn = await connect(self._settings, self._application_name + ":listen")
        await self._conn.add_listener(NOTIFY_CHANNEL, self._notified)

    async def _reconnect(self) -> None:
        # The database may be restarting; polling continues until it answers again.
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            await self.__aexit__()
            await self._listen()

    def _notified(self, *_: Any) -> None:
        for event in self._waiters:
            event.set()


async def process_next_batch(
    pool: asyncpg.Pool, follower: str, handle: BatchHandler, limit: int = 500
) -> int:
    """Apply the next batch of the log and move the follower's position, in one transaction.

    The position row is locked first, so two processes running the same follower never apply
    a batch twice; returns how many events were applied or parked.
    """
    async with pool.acquire() as conn, conn.transaction():
        after, any_parked = await _locked_position(conn, follower)
        batch = await read_log(conn, after, limit)
        if batch:
            await apply_or_park(conn, follower, batch, handle, any_parked=any_parked)
            last = batch[-1].log_position
            await conn.execute(
                "UPDATE log_positions SET transaction_id = $2, position = $3 WHERE follower = $1",
                follower,
                last.transaction_id,
                last.position,
            )
        return len(batch)


async def _locked_position(conn: asyncpg.Connection, follower: str) -> tuple[LogPosition, bool]:
    """The follower's position, locked, and whether it has parked aggregates (asked in the
    same statement, so that a follower with none pays nothing more per batch)."""
    await conn.execute(
        "INSERT INTO log_positions (follower) VALUES ($1) ON CONFLICT DO NOTHING", follower
    )
    row = await conn.fetchrow(
        "SELECT transaction_id, position,"
        " EXISTS (SELECT FROM parked_events WHERE follower = $1) AS any_parked"
        " FROM log_positions WHERE follower = $1 FOR UPDATE",
        follower,
    )
    assert row is not None
    return LogPosition(row["transaction_id"], row["position"]), row["any_parked"]


async def follow(
    pool: asyncpg.Pool,
    wakeups: LogWakeups,
    follower: str,
    handle: BatchHandler,
    *,
    limit: int = 500,
) -> None:
    """Apply the log to a follower for ever: whole batches while there are any, then wait."""
    while True:
        applied = await process_next_batch(pool, follower, handle, limit)
        if applied < limit:
            await wakeups.wait()


# One pipeline for every follower ------------------------------------------------------------


def account_partition(account_id: UUID | None, partitions: int) -> int:
    """The partition of an account's events among `partitions`, as the SQL function
    `risiti_account_partition` (migration 0020) computes it: the first 32 bits of the md5 of
    the id's text, modulo `partitions`; events without an account are in partition 0."""
    if account_id is None:
        return 0
    return int(hashlib.md5(str(account_id).encode()).hexdigest()[:8], 16) % partitions


@dataclass(frozen=True)
class Partition:
    """Partition `index` of `count` of the log, by account; 0 of 1 is the whole log."""

    index: int = 0
    count: int = 1

    def position_row(self, follower: str) -> str:
        """The follower's row in `log_positions` for this partition: its own name for the
        whole log, `name@k/N` for a part of it. Parked events keep the follower's own name:
        an aggregate is in one partition only."""
        return follower if self.count == 1 else f"{follower}@{self.index}/{self.count}"


class FollowerBatch(Protocol):
    """What one follower makes of one batch: fed each event just after it is folded, then
    written in the batch's transaction."""

    def add(self, folded: Folded) -> None:
        """One event of the batch, in log order, with its aggregate just after it: read what
        matters of the aggregate now, as later events of the batch change it in place."""
        ...

    async def write(self, conn: asyncpg.Connection) -> None: ...

    async def after_commit(self) -> None:
        """Whatever waits for the batch's transaction to commit (waking workers)."""
        ...


class Follower(Protocol):
    """A follower of the log that a `FollowerPipeline` feeds: a projection, the dispatcher."""

    name: str
    topics: tuple[str, ...]
    """The kinds of aggregates whose events it reads (topic prefixes)."""

    def begin(self) -> FollowerBatch: ...


Observe = Callable[[str, int, float], None]
"""Told, for each follower, how many events a batch gave it and how long the batch took."""


def _unobserved(follower: str, events: int, seconds: float) -> None:
    """Observes nothing."""


class FollowerPipeline:
    """Every follower of one partition of the log, fed by one read and one fold per batch.

    Each batch is read once, folded once (into `folder`, shared by every pipeline of the
    process: one set of aggregates in memory), and every follower writes its rows from that
    fold, in one transaction that moves all their positions. Each follower keeps its own
    position row and its own parked aggregates: when anything in the batch fails, it is
    rolled back to a savepoint and each follower applies it on its own, parking what it cannot
    apply (parked.py), so that one bad event parks its aggregate in the followers that cannot
    apply it and nowhere else.
    """

    def __init__(
        self,
        followers: list[Follower],
        folder: AggregateFolder,
        *,
        partition: Partition | None = None,
        limit: int = 500,
        gather_seconds: float = 0.0,
        observe: Observe = _unobserved,
    ) -> None:
        self.partition = partition or Partition()
        self.limit = limit
        self.gather_seconds = gather_seconds
        self._followers = {self.partition.position_row(f.name): f for f in followers}
        self._rows = sorted(self._followers)  # locked in one order everywhere: no deadlocks
        self._folder = folder
        self._topics = tuple({topic for f in followers for topic in f.topics})
        self._observe = observe

    async def follow(
        self,
        pool: asyncpg.Pool,
        wait: Callable[[], Awaitable[None]],
        stop: asyncio.Event | None = None,
    ) -> None:
        """Apply the log until `stop` is set: whole batches while there are any, then `wait`.
        On one connection held throughout, which a pool would reset after every batch."""
        async with pool.acquire() as conn:
            while stop is None or not stop.is_set():
                started = time.monotonic()
                if await self.process_next_batch(conn) < self.limit:
                    await wait()
                    await self._gather(started)

    async def _gather(self, batch_started: float) -> None:
        """Let the next batch start `gather_seconds` after the last one did, at the soonest.
        A batch costs about a dozen statements whatever it holds; under a steady stream of
        commits every wake-up would otherwise start a batch of one commit. After a quiet spell
        the time has passed already, and the batch starts at once."""
        pause = batch_started + self.gather_seconds - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)

    async def process_next_batch(self, conn: asyncpg.Connection) -> int:
        """Apply the next batch of the partition to every follower and move their positions,
        in one transaction; returns how many events the batch had."""
        started = time.perf_counter()
        done: list[tuple[str, FollowerBatch, int]] = []
        async with conn.transaction():
            positions = await self._locked_positions(conn)
            after = min(position for position, _ in positions.values())
            batch = await read_log(
                conn, after, self.limit, partition=(self.partition.index, self.partition.count)
            )
            if batch:
                done = await self._apply(conn, batch, positions)
                last = batch[-1].log_position
                await conn.execute(
                    "UPDATE log_positions SET transaction_id = $2, position = $3"
                    " WHERE follower = ANY($1) AND (transaction_id, position) < ($2, $3)",
                    self._rows,
                    last.transaction_id,
                    last.position,
                )
        seconds = time.perf_counter() - started
        for name, follower_batch, events in done:
            self._observe(name, events, seconds)
            await follower_batch.after_commit()
        return len(batch)

    async def _locked_positions(
        self, conn: asyncpg.Connection
    ) -> dict[str, tuple[LogPosition, bool]]:
        """Each follower's position, locked, and whether it has parked aggregates."""
        rows = await self._select_positions(conn)
        if len(rows) < len(self._rows):
            await self._insert_positions(conn)
            rows = await self._select_positions(conn)
        return {
            row["follower"]: (LogPosition(row["transaction_id"], row["position"]), row["parked"])
            for row in rows
        }

    async def _select_positions(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT follower, transaction_id, position, EXISTS (SELECT FROM parked_events e"
            "   WHERE e.follower = split_part(p.follower, '@', 1)) AS parked"
            " FROM log_positions p WHERE follower = ANY($1) ORDER BY follower FOR UPDATE",
            self._rows,
        )
        return rows

    async def _insert_positions(self, conn: asyncpg.Connection) -> None:
        for follower in self._followers.values():
            await add_position_rows(conn, follower.name, [self.partition])

    async def _apply(
        self,
        conn: asyncpg.Connection,
        batch: list[RecordedEvent],
        positions: dict[str, tuple[LogPosition, bool]],
    ) -> list[tuple[str, FollowerBatch, int]]:
        parked = False
        for row, (_, any_parked) in positions.items():
            if any_parked and await parked_among(conn, self._followers[row].name, batch):
                parked = True
        if not parked:
            try:
                async with conn.transaction():
                    return await self._apply_folded_once(conn, batch, positions)
            except Exception as error:
                if is_transient(error):
                    raise
        return await self._apply_for_each(conn, batch, positions)

    async def _apply_folded_once(
        self,
        conn: asyncpg.Connection,
        batch: list[RecordedEvent],
        positions: dict[str, tuple[LogPosition, bool]],
    ) -> list[tuple[str, FollowerBatch, int]]:
        """The usual way: one fold, each follower taking the events it reads and has not
        applied yet."""
        taking = [
            (row, self._followers[row], self._followers[row].begin(), positions[row][0], [0])
            for row in self._rows
        ]
        async with self._folder.lock:
            await self._folder.load_missing(conn, batch, self._topics)
            for folded in self._folder.fold_loaded(batch, self._topics):
                record = folded.record
                for _, follower, follower_batch, after, count in taking:
                    if record.log_position > after and record.topic.startswith(follower.topics):
                        follower_batch.add(folded)
                        count[0] += 1
        for _, _, follower_batch, _, _ in taking:
            await follower_batch.write(conn)
        return [(follower.name, b, count[0]) for _, follower, b, _, count in taking]

    async def _apply_for_each(
        self,
        conn: asyncpg.Connection,
        batch: list[RecordedEvent],
        positions: dict[str, tuple[LogPosition, bool]],
    ) -> list[tuple[str, FollowerBatch, int]]:
        """After a failure, or with parked aggregates in the batch: each follower applies it
        on its own, parking what it cannot apply. The folder reloads what the failed fold
        left ahead (its version check)."""
        done: list[tuple[str, FollowerBatch, int]] = []
        for row in self._rows:
            after, any_parked = positions[row]
            follower = self._followers[row]
            events = [r for r in batch if r.log_position > after]
            if events:
                handle = applying(follower, self._folder, done)
                await apply_or_park(conn, follower.name, events, handle, any_parked=any_parked)
        return done


async def add_position_rows(
    conn: asyncpg.Connection, follower: str, partitions: list[Partition]
) -> None:
    """Position rows of a follower for partitions it has none for yet. When it followed the
    log cut otherwise before (RISITI_PROJECTOR_PARTITIONS changed), a new row starts where the
    least advanced of its rows is: what it applies again changes nothing (every follower
    writes idempotently), and nothing is skipped."""
    await conn.execute(
        "INSERT INTO log_positions (follower, partition_index, partition_count,"
        " transaction_id, position)"
        " SELECT w.row, w.index, w.count, coalesce(s.transaction_id, '0'), coalesce(s.position, 0)"
        " FROM unnest($1::text[], $2::int[], $3::int[]) AS w(row, index, count)"
        " LEFT JOIN LATERAL (SELECT transaction_id, position FROM log_positions"
        "   WHERE split_part(follower, '@', 1) = $4"
        "   ORDER BY transaction_id, position LIMIT 1) s ON true"
        " ORDER BY w.row ON CONFLICT DO NOTHING",
        [p.position_row(follower) for p in partitions],
        [p.index for p in partitions],
        [p.count for p in partitions],
        follower,
    )


def applying(
    follower: Follower, folder: AggregateFolder, done: list[tuple[str, FollowerBatch, int]]
) -> BatchHandler:
    """A handler that folds events for one follower alone and writes them, adding what it
    wrote to `done` (for `after_commit`)."""

    async def handle(conn: asyncpg.Connection, records: list[RecordedEvent]) -> None:
        follower_batch = follower.begin()
        count = 0
        async with folder.lock:
            async for folded in folder.fold(conn, records, follower.topics):
                follower_batch.add(folded)
                count += 1
        await follower_batch.write(conn)
        done.append((follower.name, follower_batch, count))

    return handle


async def retry_parked_of(
    pool: asyncpg.Pool, follower: Follower, aggregate_id: UUID | None = None
) -> list[Retried]:
    """Apply a follower's parked events again (`risiti parked --retry`), then do what waits
    for their commits."""
    done: list[tuple[str, FollowerBatch, int]] = []
    retried = await retry_parked(
        pool, follower.name, applying(follower, AggregateFolder(), done), aggregate_id=aggregate_id
    )
    for _, follower_batch, _ in done:
        await follower_batch.after_commit()
    return retried


@dataclass(frozen=True)
class FollowerLag:
    """How far a follower of the log is behind: events not yet applied, and the age of the
    oldest of them (0 when it is up to date)."""

    follower: str
    events: int
    seconds: float


async def follower_lags(conn: asyncpg.Connection | asyncpg.Pool) -> list[FollowerLag]:
    rows = await conn.fetch(
        "SELECT p.follower, count(e.position) AS events,"
        " coalesce(extract(epoch FROM now() - min(e.recorded_at)), 0)::float8 AS seconds"
        " FROM log_positions p LEFT JOIN events e"
        " ON (e.transaction_id, e.position) > (p.transaction_id, p.position)"
        " AND (p.partition_count = 1"
        "   OR risiti_account_partition(e.account_id, p.partition_count) = p.partition_index)"
        " GROUP BY p.follower ORDER BY p.follower"
    )
    return [FollowerLag(**row) for row in rows]


async def horizon_age_seconds(conn: asyncpg.Connection | asyncpg.Pool) -> float:
    """How long the oldest running transaction has held back what followers may read."""
    age: float = await conn.fetchval(
        "SELECT coalesce(extract(epoch FROM now() - min(xact_start)), 0)::float8"
        " FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
    )
    return age
