"""Parking: what a follower of the log does with an event it cannot apply (DESIGN.md §8).

One event that a follower cannot decode, fold or write (a figure past what a column holds, a
`state` that does not decode, a version out of sequence) would otherwise stop that follower for
every account, on every restart. Instead the follower parks the event's aggregate: it records
the event and the error in `parked_events`, queues that aggregate's later events behind it,
applies every other aggregate's events, and moves its position past them all, in the batch's
one transaction. `risiti parked --retry` applies the parked events, in order, after a fix.

A batch is tried whole inside one savepoint, so the usual path costs two statements more. Only
when it fails is it tried again an event at a time, each in its own savepoint, to find the
events that cannot be applied.

Errors of the connection or the server (a lost connection, a deadlock, a timeout, a full disk)
say nothing about the event: they propagate, and the follower's process restarts and tries the
batch again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import asyncpg

from risiti.eventstore.recorder import Recorded, RecordedEvent, read_aggregate

log = logging.getLogger(__name__)

Folds = TypeVar("Folds", bound=Recorded)

BatchHandler = Callable[[asyncpg.Connection, list[RecordedEvent]], Awaitable[None]]

# SQLSTATE classes of errors that come from the server or the connection, not from an event:
# connection exceptions, transaction rollbacks (deadlock, serialization), insufficient
# resources, operator intervention (statement timeout, shutdown), system and internal errors.
_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58", "XX"})
_LOCK_NOT_AVAILABLE = "55P03"
ERROR_TEXT_LIMIT = 2000
BEHIND = "queued behind an earlier parked event of this aggregate"


def is_transient(error: BaseException) -> bool:
    """Whether an error says nothing about the event being applied, so that parking its
    aggregate would be wrong: the batch must be tried again as it is."""
    if isinstance(error, OSError | TimeoutError | MemoryError | asyncpg.InterfaceError):
        return True
    if isinstance(error, asyncpg.PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        return state[:2] in _TRANSIENT_CLASSES or state == _LOCK_NOT_AVAILABLE
    return False


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_TEXT_LIMIT]


@dataclass(frozen=True)
class _Parked:
    record: RecordedEvent
    error: str


async def apply_or_park(
    conn: asyncpg.Connection,
    follower: str,
    batch: list[RecordedEvent],
    handle: BatchHandler,
    *,
    any_parked: bool,
) -> None:
    """Apply a batch in the caller's transaction, parking the aggregates it cannot apply;
    `any_parked` says whether the follower had parked aggregates before it (they are looked up
    only then)."""
    parked_before = await parked_among(conn, follower, batch) if any_parked else set()
    runnable = [r for r in batch if r.originator_id not in parked_before]
    parked = [_Parked(r, BEHIND) for r in batch if r.originator_id in parked_before]
    if runnable:
        try:
            async with conn.transaction():
                await handle(conn, runnable)
        except Exception as error:
            if is_transient(error):
                raise
            parked += await _apply_one_at_a_time(conn, follower, runnable, handle)
    if parked:
        await _park(conn, follower, parked)


async def _apply_one_at_a_time(
    conn: asyncpg.Connection, follower: str, batch: list[RecordedEvent], handle: BatchHandler
) -> list[_Parked]:
    """Apply each event alone; park the first one of an aggregate that fails, and that
    aggregate's later ones behind it."""
    parked: list[_Parked] = []
    failed: set[UUID] = set()
    for record in batch:
        if record.originator_id in failed:
            parked.append(_Parked(record, BEHIND))
            continue
        try:
            async with conn.transaction():
                await handle(conn, [record])
        except Exception as error:
            if is_transient(error):
                raise
            failed.add(record.originator_id)
            parked.append(_Parked(record, describe(error)))
            log.error(
                "%s parked aggregate %s of account %s at position %s (transaction %s, version %s):"
                " %s",
                follower,
                record.originator_id,
                record.account_id,
                record.position,
                record.transaction_id,
                record.originator_version,
                describe(error),
                exc_info=error,
            )
    return parked


async def parked_among(
    conn: asyncpg.Connection, follower: str, batch: list[RecordedEvent]
) -> set[UUID]:
    """The aggregates of the batch that the follower has parked."""
    rows = await conn.fetch(
        "SELECT DISTINCT originator_id FROM parked_events"
        " WHERE follower = $1 AND originator_id = ANY($2::uuid[])",
        follower,
        list({r.originator_id for r in batch}),
    )
    return {row["originator_id"] for row in rows}


async def _park(conn: asyncpg.Connection, follower: str, parked: list[_Parked]) -> None:
    for entry in parked:
        if entry.error == BEHIND:
            log.warning(
                "%s parked event %s of aggregate %s (account %s, position %s) behind its"
                " earlier parked event",
                follower,
                entry.record.originator_version,
                entry.record.originator_id,
                entry.record.account_id,
                entry.record.position,
            )
    await conn.execute(
        "INSERT INTO parked_events (follower, originator_id, originator_version, account_id,"
        " transaction_id, position, error)"
        " SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::uuid[], $5::xid8[],"
        " $6::bigint[], $7::text[]) ON CONFLICT DO NOTHING",
        follower,
        [p.record.originator_id for p in parked],
        [p.record.originator_version for p in parked],
        [p.record.account_id for p in parked],
        [p.record.transaction_id for p in parked],
        [p.record.position for p in parked],
        [p.error for p in parked],
    )


async def copy_parked(
    conn: asyncpg.Connection, source: str, followers: list[str], originator_ids: list[UUID]
) -> None:
    """Park for `followers` what `source` parked of these aggregates: a rebuild of several
    projections at once folds once for all of them, and parks for all of them."""
    await conn.execute(
        "INSERT INTO parked_events (follower, originator_id, originator_version, account_id,"
        " transaction_id, position, error)"
        " SELECT f.name, p.originator_id, p.originator_version, p.account_id, p.transaction_id,"
        " p.position, p.error FROM parked_events p, unnest($2::text[]) AS f(name)"
        " WHERE p.follower = $1 AND p.originator_id = ANY($3::uuid[])"
        " ON CONFLICT DO NOTHING",
        source,
        followers,
        originator_ids,
    )


def before_parked(batch: list[Folds], parked: dict[UUID, int]) -> list[Folds]:
    """The events of a batch that a rebuild applies: for each aggregate in `parked` (with the
    first version its follower did not apply), only those before it."""
    if not parked:
        return batch
    return [
        r
        for r in batch
        if r.originator_version < parked.get(r.originator_id, r.originator_version + 1)
    ]


# Listing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParkedAggregate:
    """An aggregate a follower parked: where and why, and how many of its events wait."""

    follower: str
    originator_id: UUID
    account_id: UUID | None
    originator_version: int
    transaction_id: int
    position: int
    error: str
    parked_at: datetime
    events: int


async def parked_aggregates(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    follower: str | None = None,
    aggregate_id: UUID | None = None,
) -> list[ParkedAggregate]:
    """Parked aggregates, in the order they were parked; each with its first parked event."""
    rows = await conn.fetch(
        "SELECT * FROM (SELECT DISTINCT ON (follower, originator_id) follower, originator_id,"
        " account_id, originator_version, transaction_id, position, error, parked_at,"
        " count(*) OVER (PARTITION BY follower, originator_id) AS events FROM parked_events"
        " WHERE ($1::text IS NULL OR follower = $1)"
        " AND ($2::uuid IS NULL OR originator_id = $2)"
        " ORDER BY follower, originator_id, originator_version) first"
        " ORDER BY transaction_id, position, follower",
        follower,
        aggregate_id,
    )
    return [ParkedAggregate(**row) for row in rows]


@dataclass(frozen=True)
class ParkedCount:
    follower: str
    aggregates: int
    events: int


async def parked_counts(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, ParkedCount]:
    rows = await conn.fetch(
        "SELECT follower, count(DISTINCT originator_id) AS aggregates, count(*) AS events"
        " FROM parked_events GROUP BY follower"
    )
    return {row["follower"]: ParkedCount(**row) for row in rows}


async def parked_from(conn: asyncpg.Connection | asyncpg.Pool, follower: str) -> dict[UUID, int]:
    """Each parked aggregate of a follower, with the first version it did not apply."""
    rows = await conn.fetch(
        "SELECT originator_id, min(originator_version) AS version FROM parked_events"
        " WHERE follower = $1 GROUP BY originator_id",
        follower,
    )
    return {row["originator_id"]: row["version"] for row in rows}


# Retrying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retried:
    """The outcome of retrying one parked aggregate: applied (error None) or still parked."""

    follower: str
    originator_id: UUID
    events: int
    error: str | None


async def retry_parked(
    pool: asyncpg.Pool, follower: str, handle: BatchHandler, *, aggregate_id: UUID | None = None
) -> list[Retried]:
    """Apply a follower's parked events again, one transaction per aggregate."""
    parked = await parked_aggregates(pool, follower=follower, aggregate_id=aggregate_id)
    return [await _retry(pool, follower, handle, p.originator_id) for p in parked]


async def _retry(
    pool: asyncpg.Pool, follower: str, handle: BatchHandler, originator_id: UUID
) -> Retried:
    async with pool.acquire() as conn, conn.transaction():
        # The follower's runner waits meanwhile, so it never parks another event of this
        # aggregate behind events that are being applied.
        # Every partition's runner (`name@k/N` rows, eventstore/subscription.py) waits.
        await conn.execute(
            "SELECT FROM log_positions WHERE split_part(follower, '@', 1) = $1"
            " ORDER BY follower FOR UPDATE",
            follower,
        )
        versions = await conn.fetch(
            "SELECT originator_version FROM parked_events WHERE follower = $1"
            " AND originator_id = $2 ORDER BY originator_version",
            follower,
            originator_id,
        )
        if not versions:  # retried meanwhile by someone else
            return Retried(follower, originator_id, 0, None)
        # Only the parked events: later ones are after the follower's position, still to come.
        parked = {row["originator_version"] for row in versions}
        first = min(parked)
        records = [
            r for r in await read_aggregate(conn, originator_id) if r.originator_version in parked
        ]
        try:
            async with conn.transaction():
                if records:
                    await handle(conn, records)
        except Exception as error:
            if is_transient(error):
                raise
            await conn.execute(
                "UPDATE parked_events SET error = $4 WHERE follower = $1 AND originator_id = $2"
                " AND originator_version = $3",
                follower,
                originator_id,
                first,
                describe(error),
            )
            return Retried(follower, originator_id, len(records), describe(error))
        await conn.execute(
            "DELETE FROM parked_events WHERE follower = $1 AND originator_id = $2",
            follower,
            originator_id,
        )
        return Retried(follower, originator_id, len(records), None)
