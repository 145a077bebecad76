"""The projection runner: each projection follows the log from its own position, applying a
batch and recording its new position in one transaction, so every event is applied once.

A projection that has nothing to do with an event still moves past it. The events of a batch
are folded into their aggregates once, and every projection of the group reads the result.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import asyncpg

from risiti.commands.folding import AggregateFolder, Folded
from risiti.config import Settings
from risiti.eventstore.recorder import RecordedEvent
from risiti.eventstore.subscription import LogWakeups, follow, process_next_batch
from risiti.projections.balances import BalancesProjection
from risiti.projections.invoice_list import InvoiceListProjection

BATCH_SIZE = 500


class Projection(Protocol):
    """A read model: `apply` gets every batch of the log, in log order, folded."""

    name: str
    tables: tuple[str, ...]
    topics: tuple[str, ...]
    """The kinds of aggregates whose events it reads (topic prefixes)."""

    async def apply(self, conn: asyncpg.Connection, batch: list[Folded]) -> None: ...


def all_projections() -> list[Projection]:
    return [InvoiceListProjection(), BalancesProjection()]


def follower_name(projection: Projection) -> str:
    return f"projection:{projection.name}"


class BatchApplier:
    """Folds each batch once and hands it to every projection of a group."""

    def __init__(self, projections: list[Projection]) -> None:
        self.projections = projections
        self._folder = AggregateFolder()
        self._topics = tuple({topic for p in projections for topic in p.topics})

    async def __call__(self, conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        folded = [f async for f in self._folder.fold(conn, batch, self._topics)]
        for projection in self.projections:
            await projection.apply(conn, folded)


async def run_projections(
    settings: Settings, pool: asyncpg.Pool, projections: list[Projection] | None = None
) -> None:
    """Keep every projection up to date until cancelled."""
    async with asyncio.TaskGroup() as group:
        for projection in projections or all_projections():
            group.create_task(_run_one(settings, pool, projection))


async def _run_one(settings: Settings, pool: asyncpg.Pool, projection: Projection) -> None:
    async with LogWakeups(settings, f"projector:{projection.name}") as wakeups:
        await follow(
            pool, wakeups, follower_name(projection), BatchApplier([projection]), limit=BATCH_SIZE
        )


async def catch_up(pool: asyncpg.Pool, projection: Projection) -> int:
    """Apply everything visible now; returns how many events that was."""
    total = 0
    applier = BatchApplier([projection])
    while applied := await process_next_batch(pool, follower_name(projection), applier, BATCH_SIZE):
        total += applied
    return total
