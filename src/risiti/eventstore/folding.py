"""Folding the log into aggregates, batch by batch, for followers (projections, dispatcher).

A follower reads the log in order, so the aggregate an event belongs to was usually folded a
moment ago: it is kept in memory, and only aggregates met in the middle of their history are
read from the store, all of a batch's in one query. The version check makes the memory safe: a
batch rolled back and read again finds its aggregates ahead and reloads them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper

from risiti.eventstore.mapper import create_mapper
from risiti.eventstore.recorder import Recorded, RecordedEvent, read_histories_before

DEFAULT_CAPACITY = 50_000
"""Aggregates a folder keeps in memory; the projector's one folder is sized by
RISITI_PROJECTOR_AGGREGATES (docs/operations.md)."""


@dataclass
class Folded:
    """One event of a batch, with its aggregate just after it (mutated by later events of the
    same aggregate in the batch: read it before moving on if the moment matters)."""

    record: RecordedEvent
    event: Any
    status_before: str | None
    aggregate: Aggregate


class AggregateFolder:
    """Keeps recently folded aggregates and applies each batch's events to them.

    Followers of several partitions may share one folder (their aggregates never overlap):
    each holds `lock` from `load_missing` to the end of its fold, so that no other batch's
    fold forgets an aggregate between its loading and its folding."""

    def __init__(self, mapper: Mapper[UUID] | None = None, capacity: int = DEFAULT_CAPACITY):
        self._mapper = mapper or create_mapper()
        self._capacity = capacity
        self._aggregates: dict[UUID, Aggregate] = {}
        self.lock = asyncio.Lock()

    async def fold(
        self, conn: asyncpg.Connection, batch: list[RecordedEvent], topic_prefixes: tuple[str, ...]
    ) -> AsyncIterator[Folded]:
        """Apply the batch's events of the given kinds, yielding after each one."""
        await self.load_missing(conn, batch, topic_prefixes)
        for folded in self.fold_loaded(batch, topic_prefixes):
            yield folded

    async def load_missing(
        self, conn: asyncpg.Connection, batch: list[RecordedEvent], topic_prefixes: tuple[str, ...]
    ) -> None:
        """Read the earlier events of the batch's aggregates not kept in memory at the version
        just before the batch, so that `fold_loaded` needs no I/O."""
        await self._load_missing(conn, [r for r in batch if r.topic.startswith(topic_prefixes)])

    def fold_loaded(
        self, batch: list[RecordedEvent], topic_prefixes: tuple[str, ...]
    ) -> Iterator[Folded]:
        """Apply the batch's events (after `load_missing`), yielding after each one."""
        for record in batch:
            if record.topic.startswith(topic_prefixes):
                event, status_before, after = self._mutate(record)
                yield Folded(record, event, status_before, after)
        self._forget_oldest()

    def apply(self, batch: Sequence[Recorded], topic_prefixes: tuple[str, ...]) -> list[Aggregate]:
        """`fold_loaded` for followers that only need where the batch leaves each aggregate:
        the latest state of every aggregate it touched, in the order first touched."""
        touched: dict[UUID, Aggregate] = {}
        for record in batch:
            if record.topic.startswith(topic_prefixes):
                touched[record.originator_id] = self._mutate(record)[2]
        self._forget_oldest()
        return list(touched.values())

    def _mutate(self, record: Recorded) -> tuple[Any, str | None, Aggregate]:
        """Apply one event to its kept aggregate: the event, the aggregate's status before it
        (read first: the event changes the aggregate in place) and the aggregate after it."""
        before = self._aggregates.pop(record.originator_id, None)
        status_before = getattr(before, "status", None)
        event: Any = self._mapper.to_domain_event(record.as_stored_event())
        after = event.mutate(before)
        # Put back at the end, so the first keys are the ones longest unseen.
        self._aggregates[record.originator_id] = after
        return event, status_before, after

    async def _load_missing(self, conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        first_versions: dict[UUID, int] = {}
        for record in batch:
            first_versions.setdefault(record.originator_id, record.originator_version)
        stale = {
            originator_id: version
            for originator_id, version in first_versions.items()
            if self._version_of(originator_id) != version - 1
        }
        for originator_id in stale:
            self._aggregates.pop(originator_id, None)
        for record in await read_histories_before(conn, stale):
            before = self._aggregates.get(record.originator_id)
            earlier: Any = self._mapper.to_domain_event(record.as_stored_event())
            self._aggregates[record.originator_id] = earlier.mutate(before)

    def kept(self, aggregate_ids: list[UUID]) -> list[Aggregate]:
        return [self._aggregates[aggregate_id] for aggregate_id in aggregate_ids]

    def _version_of(self, originator_id: UUID) -> int:
        aggregate = self._aggregates.get(originator_id)
        return aggregate.version if aggregate is not None else 0

    def _forget_oldest(self) -> None:
        excess = len(self._aggregates) - self._capacity
        if excess > 0:
            for originator_id in list(islice(self._aggregates, excess)):
                del self._aggregates[originator_id]
