"""Sharing the log's partitions among `risiti projector` processes (docs/scaling.md).

Each process runs the followers of the partitions it holds, each partition a
`FollowerPipeline` of its own. It holds a partition with a session-level advisory lock, taken
on a connection kept for that alone, so a process that dies (SIGKILL included) lets go of its
partitions as soon as PostgreSQL notices its connection closed. Each process also holds a
runner lock of its own, which is how the processes count each other: every `check_seconds`
each one works out its fair share, ceil(partitions / runners), lets go of partitions above it
between two batches, and takes free ones up to it. A partition that changes hands mid-batch
loses nothing: each batch locks its position rows, so a batch is applied by one process, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import TYPE_CHECKING

import asyncpg

from risiti.eventstore.database import connect
from risiti.eventstore.folding import AggregateFolder
from risiti.eventstore.subscription import (
    Follower,
    FollowerPipeline,
    LogWakeups,
    Observe,
    Partition,
    add_position_rows,
)

if TYPE_CHECKING:
    from risiti.config import Settings

log = logging.getLogger(__name__)

# Advisory lock keys (key1, key2): (_PARTITION_LOCK, k) for partition k, (_RUNNER_LOCK, slot)
# for each running projector. Any fixed numbers, distinct from migrations.py's.
_PARTITION_LOCK = 7_261_842
_RUNNER_LOCK = 7_261_843
_PREPARE_LOCK = 7_261_844
CHECK_SECONDS = 1.0
BATCH_SIZE = 500


class _Running:
    """One partition's pipeline running, and how to stop it between two batches."""

    def __init__(self, task: asyncio.Task[None], stop: asyncio.Event) -> None:
        self.task = task
        self.stop = stop


async def follow_partitions(
    settings: Settings,
    pool: asyncpg.Pool,
    followers: list[Follower],
    *,
    observe: Observe,
    check_seconds: float = CHECK_SECONDS,
) -> None:
    """Run the followers over this process's share of the partitions until cancelled; raises
    as soon as one partition's pipeline fails, or the lock connection is lost."""
    count = settings.projector_partitions
    folder = AggregateFolder(capacity=settings.projector_aggregates)
    locks = await connect(settings, "projector:partitions")
    running: dict[int, _Running] = {}
    try:
        await _prepare_positions(locks, followers, count)
        await _take_runner_slot(locks)
        async with LogWakeups(settings, "projector") as wakeups:
            while True:
                for index, run in list(running.items()):
                    if run.task.done():
                        run.task.result()  # a failure stops the projector
                        del running[index]
                share = math.ceil(count / await _runners(locks))
                for index in sorted(running, reverse=True)[: max(0, len(running) - share)]:
                    await _let_go(locks, index, running.pop(index))
                for index in range(count):
                    if len(running) >= share:
                        break
                    if index not in running and await _try_lock(locks, index):
                        log.info("projector follows partition %s of %s", index, count)
                        pipeline = FollowerPipeline(
                            followers,
                            folder,
                            partition=Partition(index, count),
                            limit=BATCH_SIZE,
                            gather_seconds=settings.projector_batch_gather_ms / 1000,
                            observe=observe,
                        )
                        running[index] = _start(pool, pipeline, wakeups)
                await asyncio.sleep(check_seconds)
    finally:
        for run in running.values():
            run.task.cancel()
        for run in running.values():
            with contextlib.suppress(BaseException):
                await run.task
        with contextlib.suppress(Exception):
            await locks.close()


def _start(pool: asyncpg.Pool, pipeline: FollowerPipeline, wakeups: LogWakeups) -> _Running:
    stop = asyncio.Event()
    return _Running(asyncio.create_task(pipeline.follow(pool, wakeups.waiter(), stop)), stop)


async def _let_go(locks: asyncpg.Connection, index: int, run: _Running) -> None:
    """Stop following a partition after its current batch, then unlock it for another."""
    run.stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await run.task
    await locks.execute("SELECT pg_advisory_unlock($1, $2)", _PARTITION_LOCK, index)
    log.info("projector lets go of partition %s for another projector", index)


async def _try_lock(locks: asyncpg.Connection, index: int) -> bool:
    taken: bool = await locks.fetchval(
        "SELECT pg_try_advisory_lock($1, $2)", _PARTITION_LOCK, index
    )
    return taken


async def _take_runner_slot(locks: asyncpg.Connection) -> None:
    """A runner lock of this process's own: the first free slot."""
    slot = 0
    while not await locks.fetchval("SELECT pg_try_advisory_lock($1, $2)", _RUNNER_LOCK, slot):
        slot += 1


async def _runners(locks: asyncpg.Connection) -> int:
    """How many projectors run on this database now, this one included."""
    runners: int = await locks.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = $1 AND objsubid = 2"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        _RUNNER_LOCK,
    )
    return max(runners, 1)


async def _prepare_positions(
    conn: asyncpg.Connection, followers: list[Follower], count: int
) -> None:
    """Position rows for every partition of `count` (`add_position_rows`); the rows of
    another count (RISITI_PROJECTOR_PARTITIONS changed) go once the new ones exist. Every row
    is locked first, in the order every batch locks them in, so that this never deadlocks with
    the batches of another projector; projectors starting together take turns."""
    names = sorted(follower.name for follower in followers)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _PREPARE_LOCK)
        await conn.execute(
            "SELECT FROM log_positions WHERE split_part(follower, '@', 1) = ANY($1)"
            " ORDER BY follower FOR UPDATE",
            names,
        )
        for name in names:
            await add_position_rows(conn, name, [Partition(index, count) for index in range(count)])
        await conn.execute(
            "DELETE FROM log_positions WHERE split_part(follower, '@', 1) = ANY($1)"
            " AND partition_count <> $2",
            names,
            count,
        )
