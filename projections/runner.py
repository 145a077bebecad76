"""The projections as followers of the log: each has its own position, moved in the
transaction that applies a batch, so every event is applied once. The projector feeds them,
with the dispatcher, from one read and one fold of each batch (eventstore/subscription.py's
`FollowerPipeline`, composed in risiti.bootstrap); `BatchApplier` folds for a rebuild.

A projection that has nothing to do with an event still moves past it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate

from risiti.eventstore.folding import DEFAULT_CAPACITY, AggregateFolder, Folded
from risiti.eventstore.recorder import Recorded, RecordedEvent
from risiti.eventstore.subscription import Follower, FollowerPipeline, Partition
from risiti.projections.balances import BalancesProjection
from risiti.projections.invoice_list import InvoiceListProjection

BATCH_SIZE = 500


class Projection(Protocol):
    """A read model that gets every batch of the log, in log order, folded: `changes` works out
    what the batch changes without I/O, `write` stores it. Kept apart so a replay can fold the
    next batch while the database writes this one."""

    name: str
    tables: tuple[str, ...]
    topics: tuple[str, ...]
    """The kinds of aggregates whose events it reads (topic prefixes)."""

    def changes(self, aggregates: list[Aggregate]) -> Any:
        """What the batch changes, from the latest state of each aggregate it touched."""
        ...

    async def write(self, conn: asyncpg.Connection, changes: Any) -> None: ...

    async def write_once(self, conn: asyncpg.Connection, changes: Any) -> None:
        """`write` for a rebuild that writes each aggregate once, from its final state, into
        empty tables without indexes (no upsert could find a row again: rows are copied in),
        from several processes at once; `finish_rebuild` completes it."""
        ...

    async def finish_rebuild(self, conn: asyncpg.Connection) -> None:
        """Whatever a rebuild by `write_once` leaves to do once every aggregate is written."""
        ...


def all_projections() -> list[Projection]:
    return [InvoiceListProjection(), BalancesProjection()]


def follower_name(projection: Projection) -> str:
    return f"projection:{projection.name}"


Changes = list[tuple[Projection, Any]]


class BatchApplier:
    """Folds each batch once and hands it to every projection of a group."""

    def __init__(self, projections: list[Projection], *, capacity: int = DEFAULT_CAPACITY) -> None:
        self.projections = projections
        self._folder = AggregateFolder(capacity=capacity)
        self._topics = tuple({topic for p in projections for topic in p.topics})

    async def __call__(self, conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        await self.write(conn, await self.changes(conn, batch))

    async def changes(
        self, conn: asyncpg.Connection, batch: list[RecordedEvent], *, in_thread: bool = False
    ) -> Changes:
        """What the batch changes in each projection; `conn` only loads aggregates met in the
        middle of their history. `in_thread` folds in a worker thread, so that the event loop
        keeps another batch's writes going meanwhile."""
        await self._folder.load_missing(conn, batch, self._topics)
        if in_thread:
            return await asyncio.to_thread(self.changes_of, batch)
        return self.changes_of(batch)

    def changes_of(self, batch: list[RecordedEvent]) -> Changes:
        return self.changes_for(self.fold(batch))

    def fold(self, batch: Sequence[Recorded]) -> list[Aggregate]:
        """Fold the batch (after `load_missing`); the latest state of each aggregate it touched."""
        return self._folder.apply(batch, self._topics)

    def changes_for(self, aggregates: list[Aggregate]) -> Changes:
        return [(projection, projection.changes(aggregates)) for projection in self.projections]

    def kept(self, aggregate_ids: list[UUID]) -> list[Aggregate]:
        """Aggregates as folded so far, from memory."""
        return self._folder.kept(aggregate_ids)

    @staticmethod
    async def write(conn: asyncpg.Connection, changes: Changes) -> None:
        for projection, change in changes:
            await projection.write(conn, change)


class ProjectionFollower:
    """A projection as a follower of the live log (eventstore/subscription.py's pipeline):
    each batch, the latest state of every aggregate it touched, written by the projection."""

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.name = follower_name(projection)
        self.topics = projection.topics

    def begin(self) -> ProjectionBatch:
        return ProjectionBatch(self.projection)


class ProjectionBatch:
    def __init__(self, projection: Projection) -> None:
        self._projection = projection
        self._touched: dict[UUID, Aggregate] = {}

    def add(self, folded: Folded) -> None:
        # The aggregate is changed in place by the batch's later events: by `write`, it is
        # where the batch leaves it, which is all a projection reads.
        self._touched[folded.record.originator_id] = folded.aggregate

    async def write(self, conn: asyncpg.Connection) -> None:
        if self._touched:
            changes = self._projection.changes(list(self._touched.values()))
            await self._projection.write(conn, changes)

    async def after_commit(self) -> None:
        """Nothing: the rows are the projection's whole work."""


def projection_followers() -> list[Follower]:
    return [ProjectionFollower(projection) for projection in all_projections()]


async def catch_up(pool: asyncpg.Pool, projection: Projection) -> int:
    """Apply everything visible now to the projection, in every partition its rows follow;
    returns how many events that was."""
    name = follower_name(projection)
    count = await pool.fetchval(
        "SELECT coalesce(max(partition_count), 1) FROM log_positions"
        " WHERE split_part(follower, '@', 1) = $1",
        name,
    )
    total = 0
    folder = AggregateFolder()
    async with pool.acquire() as conn:
        for index in range(count):
            pipeline = FollowerPipeline(
                [ProjectionFollower(projection)],
                folder,
                partition=Partition(index, count),
                limit=BATCH_SIZE,
            )
            while applied := await pipeline.process_next_batch(conn):
                total += applied
    return total
