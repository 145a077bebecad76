"""A partition's batches under a steady stream of commits start a gather time apart, and after a
quiet spell at once (FollowerPipeline.follow, docs/scaling.md "Batches")."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from risiti.eventstore.folding import AggregateFolder
from risiti.eventstore.subscription import FollowerPipeline

GATHER = 0.05


class _Pool:
    """Hands out one connection, which the stand-in batches below never use."""

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[object]:
        yield object()


async def _batch_starts(gather: float, quiet: float, batches: int = 4) -> list[float]:
    """When each of `batches` batches (each short of a full one) started, with a notification
    `quiet` seconds after each batch."""
    pipeline = FollowerPipeline([], AggregateFolder(), gather_seconds=gather, limit=500)
    starts: list[float] = []
    stop = asyncio.Event()

    async def next_batch(_: Any) -> int:
        starts.append(time.monotonic())
        return 1

    async def notified() -> None:
        await asyncio.sleep(quiet)
        if len(starts) >= batches:
            stop.set()

    pipeline.process_next_batch = next_batch  # type: ignore[method-assign]
    await pipeline.follow(_Pool(), notified, stop)  # type: ignore[arg-type]
    return starts


def _gaps(starts: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(starts)]


async def test_under_a_stream_of_commits_batches_start_a_gather_time_apart() -> None:
    gaps = _gaps(await _batch_starts(GATHER, quiet=0.0))
    assert gaps
    assert all(gap >= GATHER * 0.9 for gap in gaps), gaps


async def test_after_a_quiet_spell_the_next_batch_starts_at_the_notification() -> None:
    quiet = 2 * GATHER
    gaps = _gaps(await _batch_starts(GATHER, quiet=quiet))
    # No gather pause on top of the quiet spell: it has passed already.
    assert all(quiet * 0.9 <= gap < quiet + GATHER * 0.8 for gap in gaps), gaps


async def test_with_no_gather_time_batches_follow_the_notifications() -> None:
    gaps = _gaps(await _batch_starts(0.0, quiet=0.0))
    assert all(gap < GATHER for gap in gaps), gaps
