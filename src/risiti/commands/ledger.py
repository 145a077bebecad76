"""The Ledger: how commands load aggregates and append their events, one transaction at a time."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper

from risiti.commands.errors import (
    ConcurrentUpdateError,
    NotFoundError,
    StaleVersionError,
    TransactionTooOldError,
)
from risiti.commands.side_tables import refusal_of_taken_row, write_side_tables
from risiti.eventstore.errors import AppendOutOfOrderError, RowTakenError, VersionConflictError
from risiti.eventstore.mapper import create_mapper
from risiti.eventstore.recorder import PostgresRecorder, PostgresUnitOfWork, RecordedEvent
from risiti.eventstore.recording import Recorder, SideTables, UnitOfWork

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

CONFLICT_RETRIES = 12
# The longest pause between two attempts is this times 2**6 (about 0.13 s).
CONFLICT_BACKOFF_SECONDS = 0.002


class Ledger:
    """The event store as the service layer sees it: a `Recorder`, PostgreSQL's (given a pool)
    or another one, such as the in-memory recorder of the service layer's tests."""

    def __init__(
        self,
        store: asyncpg.Pool | Recorder,
        mapper: Mapper[UUID] | None = None,
        *,
        joined: asyncpg.Connection | None = None,
        actor: str | None = None,
    ) -> None:
        self.recorder: Recorder = (
            PostgresRecorder(store, joined) if isinstance(store, asyncpg.Pool) else store
        )
        self.mapper = mapper or create_mapper()
        self.actor = actor
        """Who the events appended through this ledger are recorded as coming from (the audit
        trail's `actor`): an API key id, `job:<name>`, or None where nobody is named."""

    @property
    def pool(self) -> asyncpg.Pool:
        """The database pool, for the reads and the commands that still run their own SQL."""
        return self._postgres().pool

    def acting_as(self, actor: str) -> Ledger:
        """This ledger, recording `actor` on every event it appends."""
        return Ledger(self.recorder, self.mapper, actor=actor)

    def joining(self, conn: asyncpg.Connection) -> Ledger:
        """A ledger whose work joins `conn`'s open transaction and commits only with it.

        Used where something must commit together with a command's events (an idempotency
        key's stored response); whoever owns `conn` commits and then calls `notify_appended`.
        """
        return Ledger(PostgresRecorder(self.pool, conn), self.mapper, actor=self.actor)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for reads: the joined one, so they see this request's own writes."""
        async with self._postgres().connection() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[LedgerTransaction]:
        """A unit of work: everything saved in it commits together or not at all."""
        try:
            async with self.recorder.transaction() as unit:
                yield LedgerTransaction(unit, self.mapper, self.actor)
        except AppendOutOfOrderError as error:
            if not self._joins_a_transaction():
                raise
            # The joined transaction is a savepoint: a lost race rolls back this attempt alone,
            # and a retry can follow, except a refusal of the joined transaction's own xid,
            # which only its owner can fix.
            raise TransactionTooOldError(
                "The object is being changed by other requests; try again."
            ) from error

    async def get(self, cls: type[A], aggregate_id: UUID, *, up_to_version: int | None = None) -> A:
        """An aggregate as of now (or as of a version), read outside any transaction."""
        records = await self.recorder.read_aggregate(aggregate_id, up_to_version=up_to_version)
        return rebuild(self.mapper, cls, aggregate_id, records)

    def _postgres(self) -> PostgresRecorder:
        if not isinstance(self.recorder, PostgresRecorder):
            raise TypeError(
                f"this ledger records in {type(self.recorder).__name__}, which has no database"
                " connection: only commands whose writes go through the recorder run on it"
            )
        return self.recorder

    def _joins_a_transaction(self) -> bool:
        return isinstance(self.recorder, PostgresRecorder) and self.recorder.joined is not None


class LedgerTransaction:
    """One open transaction of the Ledger."""

    def __init__(self, unit: UnitOfWork, mapper: Mapper[UUID], actor: str | None = None) -> None:
        self.unit = unit
        self.mapper = mapper
        self.actor = actor

    @property
    def conn(self) -> asyncpg.Connection:
        """The transaction's database connection, for the commands that write their own rows
        beside the events (on PostgreSQL only)."""
        if not isinstance(self.unit, PostgresUnitOfWork):
            raise TypeError(
                f"this transaction records in {type(self.unit).__name__}, which has no database"
                " connection"
            )
        return self.unit.conn

    @property
    def side_tables(self) -> SideTables:
        """The rows written with the events (`save` writes them; a command takes the next number
        of a series from here before Finalized can carry it)."""
        return self.unit.side_tables

    async def get(self, cls: type[A], aggregate_id: UUID, *, up_to_version: int | None = None) -> A:
        """An aggregate as of now (or as of a version), this unit of work's appends included."""
        records = await self.unit.read_aggregate(aggregate_id, up_to_version=up_to_version)
        return rebuild(self.mapper, cls, aggregate_id, records)

    async def events(self, aggregate_id: UUID) -> list[Any]:
        """An aggregate's events in version order, as domain events."""
        records = await self.unit.read_aggregate(aggregate_id)
        return [self.mapper.to_domain_event(record.as_stored_event()) for record in records]

    async def save(self, aggregate: Aggregate, *, account_id: UUID, livemode: bool | None) -> None:
        """Append the aggregate's pending events, with the rows they write beside the log
        (`side_tables.py`, through the unit of work's side tables, which may write them with the
        events' own statement); VersionConflictError if another writer won."""
        events = aggregate.collect_events()
        await write_side_tables(self.unit.side_tables, aggregate, events)
        stored = [self.mapper.to_stored_event(e) for e in events]
        try:
            await self.unit.append(
                stored, account_id=account_id, livemode=livemode, actor=self.actor
            )
        except RowTakenError as taken:
            raise refusal_of_taken_row(taken) from None


def rebuild(
    mapper: Mapper[UUID], cls: type[A], aggregate_id: UUID, records: list[RecordedEvent]
) -> A:
    """Fold recorded events into the aggregate they belong to."""
    aggregate: Any = None
    for record in records:
        aggregate = apply_recorded(mapper, record, aggregate)
    if not isinstance(aggregate, cls):
        raise NotFoundError(cls.__name__.lower(), aggregate_id)
    return aggregate


def apply_recorded(mapper: Mapper[UUID], record: RecordedEvent, aggregate: Any) -> Any:
    """One recorded event applied to an aggregate (None before its first event)."""
    domain_event: Any = mapper.to_domain_event(record.as_stored_event())
    return domain_event.mutate(aggregate)


async def retry_on_conflict(operation: Callable[[], Awaitable[T]]) -> T:
    """Run a command again on fresh state when another writer appended first.

    The losers of a race pause a random, growing moment first: the winner's commit fails them
    all at the same instant, so retried at once they would race again in step, one winning each
    round, and the tenth of ten concurrent writers would run out of attempts.
    """
    return await _retried(operation, VersionConflictError)


async def retry_in_new_transaction(operation: Callable[[], Awaitable[T]]) -> T:
    """Run again, from its start, an operation that owns a transaction ledgers join (`joining`)
    when an append in it was refused for that transaction's age (TransactionTooOldError): the
    new transaction's xid is younger than every committed one."""
    return await _retried(operation, TransactionTooOldError)


async def _retried(
    operation: Callable[[], Awaitable[T]], retried: type[Exception] | tuple[type[Exception], ...]
) -> T:
    for attempt in range(CONFLICT_RETRIES):
        try:
            return await operation()
        except retried:
            pause = CONFLICT_BACKOFF_SECONDS * 2 ** min(attempt, 6)
            await asyncio.sleep(random.uniform(0, pause))
    raise ConcurrentUpdateError("The object is being changed by other requests; try again.")


def check_version(aggregate: Aggregate, expected: int | None) -> None:
    """Refuse to change an aggregate that moved past the version the caller named (If-Match)."""
    if expected is not None and aggregate.version != expected:
        raise StaleVersionError(expected, aggregate.version)


async def run_at_version(operation: Callable[[], Awaitable[T]], expected: int | None) -> T:
    """Run a command that checks `expected` with `check_version`: once when the caller named a
    version, since another writer's change must then reach it as 412; otherwise retried on
    fresh state when it loses a race. An append refused for its transaction's age alone is
    retried either way: fresh state may still be at the named version."""
    if expected is not None:
        return await _retried(operation, AppendOutOfOrderError)
    return await retry_on_conflict(operation)
