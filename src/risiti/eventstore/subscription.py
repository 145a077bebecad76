"""Following the log: read in order after a tracked position, woken by LISTEN/NOTIFY.

Notifications only shorten the wait; correctness comes from re-reading after the tracked
position, so a lost notification (or a transaction that commits while nothing listens) costs at
most one poll interval. An event a follower cannot apply parks its aggregate (parked.py) instead
of stopping the follower.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg

from risiti.eventstore.database import connect
from risiti.eventstore.parked import BatchHandler, apply_or_park
from risiti.eventstore.recorder import NOTIFY_CHANNEL, LogPosition, read_log

if TYPE_CHECKING:  # the replay's processes start faster without pydantic-settings
    from risiti.config import Settings


class LogWakeups:
    """Wakes a follower when events are appended, or after `poll_interval` at the latest."""

    def __init__(self, settings: Settings, application_name: str) -> None:
        self._settings = settings
        self._application_name = application_name
        self._event = asyncio.Event()
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
        if self._conn is None or self._conn.is_closed():
            await self._reconnect()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
        # that arrives as the event is set, and the follower would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._settings.poll_interval):
                await self._event.wait()
        self._event.clear()

    async def _listen(self) -> None:
        self._conn = await connect(self._settings, self._application_name + ":listen")
        await self._conn.add_listener(NOTIFY_CHANNEL, self._notified)

    async def _reconnect(self) -> None:
        # The database may be restarting; polling continues until it answers again.
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            await self.__aexit__()
            await self._listen()

    def _notified(self, *_: Any) -> None:
        self._event.set()


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
