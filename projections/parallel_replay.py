"""Replaying a long log in a process per core, for `risiti replay` from position zero.

Each process reads its own range of aggregate ids from the log, through the primary key and
aggregate by aggregate, folds them in memory,
and then writes every aggregate's rows once, from its final state, into the replay tables. The
read models only depend on each aggregate's own history, and their sums add up in any order, so
the shares need nothing from one another.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from uuid import UUID

import asyncpg

from risiti.eventstore.parked import before_parked
from risiti.eventstore.recorder import LogPosition, aggregate_share, read_aggregates
from risiti.process import use_fast_event_loop
from risiti.projections.runner import BatchApplier, Projection, all_projections

BATCH = 5000
CHUNK = 2000
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Share:
    """One process's part of a replay: the k-th of n shares of the aggregates, by id."""

    database_url: str
    names: list[str]
    schema: str
    up_to: LogPosition
    k: int
    n: int
    parked: dict[UUID, int]
    """Aggregates left where the live projection parked them: the first version not applied."""

    def projections(self) -> list[Projection]:
        return [p for p in all_projections() if p.name in self.names]

    async def connect(self) -> asyncpg.Connection:
        """A connection whose statements name the replay schema's tables first."""
        return await asyncpg.connect(
            self.database_url, server_settings={"search_path": f"{self.schema}, public"}
        )


def replay_in_processes(
    database_url: str,
    names: list[str],
    schema: str,
    up_to: LogPosition,
    processes: int,
    progress: Callable[[int], None],
    parked: dict[UUID, int] | None = None,
) -> int:
    """Replay the log up to `up_to` into `schema`'s tables; returns how many events it read."""
    context = multiprocessing.get_context("spawn")  # nothing of the parent's loop or pool
    counts = [context.Value("q", 0) for _ in range(processes)]
    shares = [
        Share(database_url, names, schema, up_to, k, processes, parked or {})
        for k in range(processes)
    ]
    workers = [
        context.Process(target=_replay_share, args=(share, count), daemon=True)
        for share, count in zip(shares, counts, strict=True)
    ]
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers):
        progress(sum(int(count.value) for count in counts))
        time.sleep(POLL_SECONDS)
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed:
        raise RuntimeError(f"a replay process failed (exit codes {failed})")
    asyncio.run(_finish(shares[0]))
    read = sum(int(count.value) for count in counts)
    progress(read)
    return read


async def _finish(share: Share) -> None:
    conn = await share.connect()
    try:
        for projection in share.projections():
            await projection.finish_rebuild(conn)
    finally:
        await conn.close()


def _replay_share(share: Share, count: Synchronized[int]) -> None:
    # The share's aggregates all stay in memory until the end: the cyclic garbage collector
    # would otherwise walk that growing heap again and again, for nothing to collect.
    gc.disable()
    use_fast_event_loop()
    asyncio.run(_replay(share, count))


async def _replay(share: Share, count: Synchronized[int]) -> None:
    applier = BatchApplier(share.projections(), capacity=sys.maxsize)
    conn = await share.connect()
    try:
        touched = await _fold_share(conn, applier, share, count)
        for start in range(0, len(touched), CHUNK):
            changes = applier.changes_for(applier.kept(touched[start : start + CHUNK]))
            async with conn.transaction():
                for projection, change in changes:
                    await projection.write_once(conn, change)
    finally:
        await conn.close()


async def _fold_share(
    conn: asyncpg.Connection, applier: BatchApplier, share: Share, count: Synchronized[int]
) -> list[UUID]:
    """Fold the share's events, reading the next batch while folding this one."""
    touched: dict[UUID, None] = {}
    ids = aggregate_share(share.k, share.n)
    async for batch in read_aggregates(conn, ids, share.up_to, BATCH):
        batch = before_parked(batch, share.parked)
        touched.update(dict.fromkeys(aggregate.id for aggregate in applier.fold(batch)))
        count.value += len(batch)
    return list(touched)
