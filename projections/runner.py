"""The projection runner: each projection follows the log from its own position, applying a
batch and recording its new position in one transaction, so every event is applied once."""

from __future__ import annotations

import asyncio
from typing import Protocol

import asyncpg

from risiti.config import Settings
from risiti.eventstore.recorder import RecordedEvent
from risiti.eventstore.subscription import BatchHandler, LogWakeups, follow, process_next_batch
from risiti.projections.invoice_list import InvoiceListProjection


class Projection(Protocol):
    """A read model: `apply` is called for every event of the log, in log order."""

    name: str
    tables: tuple[str, ...]

    async def apply(self, event: RecordedEvent, conn: asyncpg.Connection) -> None: ...


def all_projections() -> list[Projection]:
    return [InvoiceListProjection()]


def _batch_handler(projection: Projection) -> BatchHandler:
    async def apply_batch(conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        for event in batch:
            await projection.apply(event, conn)

    return apply_batch


async def run_projections(
    settings: Settings, pool: asyncpg.Pool, projections: list[Projection] | None = None
) -> None:
    """Keep every projection up to date until cancelled."""
    async with asyncio.TaskGroup() as group:
        for projection in projections or all_projections():
            group.create_task(_run_one(settings, pool, projection))


async def _run_one(settings: Settings, pool: asyncpg.Pool, projection: Projection) -> None:
    async with LogWakeups(settings, f"projector:{projection.name}") as wakeups:
        await follow(pool, wakeups, f"projection:{projection.name}", _batch_handler(projection))


async def catch_up(pool: asyncpg.Pool, projection: Projection) -> int:
    """Apply everything visible now; returns how many events that was."""
    total = 0
    while applied := await process_next_batch(
        pool, f"projection:{projection.name}", _batch_handler(projection)
    ):
        total += applied
    return total
