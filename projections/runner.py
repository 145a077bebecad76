"""The projection runner: each projection follows the log from its own position, applying a
batch and recording its new position in one transaction, so every event is applied once.

A projection that has nothing to do with an event still moves past it. The events of a batch
are folded into their aggregates once, and every projection of the group reads the result.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate

from risiti.eventstore.folding import DEFAULT_CAPACITY, AggregateFolder
from risiti.eventstore.recorder import RecordedEvent
from risiti.eventstore.subscription import LogWakeups, follow, process_next_batch
from risiti.metrics import follower_readings, observed_batches, serve_metrics
from risiti.projections.balances import BalancesProjection
from risiti.projections.invoice_list import InvoiceListProjection

if TYPE_CHECKING:  # the replay's processes start faster without pydantic-settings
    from risiti.config import Settings

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
        empty tables, from several processes at once; `finish_rebuild` completes it."""
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

    def fold(self, batch: list[RecordedEvent]) -> list[Aggregate]:
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


async def run_projections(
    settings: Settings, pool: asyncpg.Pool, projections: list[Projection] | None = None
) -> None:
    """Keep every projection up to date until cancelled, serving the projector's metrics on
    RISITI_PROJECTOR_METRICS_PORT meanwhile."""
    server = await serve_metrics(
        settings.host, settings.projector_metrics_port, pool, follower_readings
    )
    try:
        async with asyncio.TaskGroup() as group:
            for projection in projections or all_projections():
                group.create_task(_run_one(settings, pool, projection))
    finally:
        if server is not None:
            await server.close()


async def _run_one(settings: Settings, pool: asyncpg.Pool, projection: Projection) -> None:
    name = follower_name(projection)
    applier = observed_batches(name, BatchApplier([projection]))
    async with LogWakeups(settings, f"projector:{projection.name}") as wakeups:
        await follow(pool, wakeups, name, applier, limit=BATCH_SIZE)


async def catch_up(pool: asyncpg.Pool, projection: Projection) -> int:
    """Apply everything visible now; returns how many events that was."""
    total = 0
    applier = BatchApplier([projection])
    while applied := await process_next_batch(pool, follower_name(projection), applier, BATCH_SIZE):
        total += applied
    return total
