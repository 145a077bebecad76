"""The asyncpg recorder of the `events` table: its functions, and `PostgresRecorder`, the same
functions as a `recording.Recorder` for the Ledger.

No table lock: the primary key (originator_id, originator_version) gives optimistic concurrency,
and followers order the log by transaction id (see `read_log`), so writers never wait on each
other unless they write the same aggregate.

Followers may rely on one more thing: within an aggregate, log order is version order. A
transaction's xid is assigned at its first write, so one that wrote anything (a job row, an
idempotency row) before reading an aggregate could otherwise append version N+1 under an xid
older than version N's; `append_events` refuses that append (AppendOutOfOrderError).

The module passes 400 lines because the log's writes and its three kinds of reads (one
aggregate, the followers' order, a rebuild's share) share one table and its row types (a
rebuild's share reads only what folding needs, `HistoryRecord`), and `PostgresRecorder` is only
those same functions behind the Ledger's interface.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import asyncpg
from eventsourcing.persistence import StoredEvent

from risiti.eventstore import accounts, external_ids, inventory, invoice_keys, listings, outbox
from risiti.eventstore.errors import AppendOutOfOrderError, RowTakenError, VersionConflictError
from risiti.eventstore.hashchain import GENESIS, chain_hash
from risiti.eventstore.row_writes import RowWrite, row_args, with_row_writes
from risiti.eventstore.series_turns import TURNS


class LogPosition(NamedTuple):
    """A place in the log's one stable order: (transaction id, position)."""

    transaction_id: int
    position: int


LOG_START = LogPosition(0, 0)
NOTIFY_CHANNEL = "risiti_events"
# One round trip: the commit, then the followers' wake-up in an implicit transaction of its own
# (a simple query's statements after a COMMIT run in a new one), as `notify_appended` sends it.
_COMMIT_AND_NOTIFY = f"COMMIT; SELECT pg_notify('{NOTIFY_CHANNEL}', '')"


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the log holds it."""

    position: int
    transaction_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    account_id: UUID | None
    livemode: bool | None
    recorded_at: datetime
    hash: bytes
    actor: str | None = None
    """Who appended it: an API key id, `job:<name>`, or None for events from before 0011."""

    @property
    def log_position(self) -> LogPosition:
        return LogPosition(self.transaction_id, self.position)

    def as_stored_event(self) -> StoredEvent:
        return StoredEvent(self.originator_id, self.originator_version, self.topic, self.state)


class HistoryRecord(NamedTuple):
    """An event as a rebuild reads it (`read_aggregates`): what folding needs, nothing besides."""

    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    def as_stored_event(self) -> StoredEvent:
        return StoredEvent(*self)


class Recorded(Protocol):
    """What folding reads of an event: a `RecordedEvent` or a `HistoryRecord`."""

    @property
    def originator_id(self) -> UUID: ...

    @property
    def originator_version(self) -> int: ...

    @property
    def topic(self) -> str: ...

    def as_stored_event(self) -> StoredEvent: ...


_COLUMNS = (
    "position, transaction_id, originator_id, originator_version, topic, state,"
    " account_id, livemode, recorded_at, hash, actor"
)

_INSERT = """
INSERT INTO events (originator_id, originator_version, topic, state, account_id, livemode, hash)
SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[], $5::uuid[],
                     $6::boolean[], $7::bytea[])
RETURNING position
"""
# With an actor (migration 0011). Without one the column is left out, so that appending works
# on a schema from before it too: tests of later migrations write their old data this way.
_INSERT_WITH_ACTOR = """
INSERT INTO events (originator_id, originator_version, topic, state, account_id, livemode, hash,
                    actor)
SELECT *, $8::text FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[], $5::uuid[],
                               $6::boolean[], $7::bytea[])
RETURNING position
"""


async def append_events(
    conn: asyncpg.Connection,
    events: Sequence[StoredEvent],
    *,
    account_id: UUID | None,
    livemode: bool | None,
    actor: str | None = None,
    rows: Sequence[RowWrite] = (),
) -> list[int]:
    """Append events in the caller's transaction; returns their positions. `actor` says who
    appended them (an API key id, `job:<name>`), for the audit trail; `rows` are written by the
    same statement (row_writes.py).

    Raises VersionConflictError if another writer took one of the versions first, RowTakenError
    if one of `rows` expected to be unique is another's, and AppendOutOfOrderError if an
    aggregate's previous version was appended by a transaction younger than this one (its
    events would sort before that version in the log's order).
    """
    if not events:
        await write_rows(conn, rows)
        return []
    hashes = await _chain(conn, events)
    columns = (
        [e.originator_id for e in events],
        [e.originator_version for e in events],
        [e.topic for e in events],
        [e.state for e in events],
        [account_id] * len(events),
        [livemode] * len(events),
        hashes,
    )
    args = [*columns] if actor is None else [*columns, actor]
    statement = with_row_writes(_INSERT if actor is None else _INSERT_WITH_ACTOR, args, rows)
    try:
        appended = await conn.fetch(statement, *args, *row_args(rows))
    except asyncpg.UniqueViolationError as error:
        raise _refusal(error, rows) from None
    return [row["position"] for row in appended]


async def write_rows(conn: asyncpg.Connection, rows: Sequence[RowWrite]) -> None:
    """Write rows that waited for an append that had no events, in one statement."""
    if not rows:
        return
    try:
        await conn.execute(with_row_writes("SELECT 1", [], rows), *row_args(rows))
    except asyncpg.UniqueViolationError as error:
        raise _refusal(error, rows) from None


def _refusal(error: asyncpg.UniqueViolationError, rows: Sequence[RowWrite]) -> Exception:
    """A version taken (VersionConflictError), or a row expected to be unique (RowTakenError);
    any other row's unique violation as it came."""
    table = getattr(error, "table_name", None)
    if table == "events" or not rows:
        return VersionConflictError(str(error))
    taken = next((row.taken for row in rows if row.table == table and row.taken), None)
    return RowTakenError(taken) if taken is not None else error


async def notify_appended(conn: asyncpg.Connection) -> None:
    """Wake the log's followers; sent after commit, outside the writing transaction.

    A transaction without an xid commits without a WAL flush, so this never holds the
    notification lock across a flush the way a NOTIFY inside the writing transaction would.
    """
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)


async def _chain(conn: asyncpg.Connection, events: Sequence[StoredEvent]) -> list[bytes]:
    """Hash each event onto the one before it of the same aggregate."""
    last = await _previous_hashes(conn, events)
    hashes = []
    for e in events:
        originator_id = UUID(str(e.originator_id))
        previous = last.get(originator_id, GENESIS)
        last[originator_id] = chain_hash(
            previous, originator_id, e.originator_version, e.topic, e.state
        )
        hashes.append(last[originator_id])
    return hashes


async def _previous_hashes(
    conn: asyncpg.Connection, events: Sequence[StoredEvent]
) -> dict[UUID, bytes]:
    """The stored hash before the first new event of each aggregate that already has events.

    The same statement checks that this transaction's xid is not older than that event's (equal
    is this transaction appending again): no extra round trip for the order guarantee.
    """
    first_versions: dict[UUID, int] = {}
    for e in events:
        first_versions.setdefault(UUID(str(e.originator_id)), e.originator_version)
    wanted = [(oid, v - 1) for oid, v in first_versions.items() if v > 1]
    if not wanted:
        return {}
    rows = await conn.fetch(
        "SELECT e.originator_id, e.originator_version, e.hash, e.transaction_id,"
        " pg_current_xact_id() AS own_transaction_id FROM events e"
        " JOIN unnest($1::uuid[], $2::bigint[]) AS w(id, version)"
        " ON e.originator_id = w.id AND e.originator_version = w.version",
        [oid for oid, _ in wanted],
        [v for _, v in wanted],
    )
    for row in rows:
        if row["transaction_id"] > row["own_transaction_id"]:
            raise AppendOutOfOrderError(
                f"{row['originator_id']} v{row['originator_version']} was appended by transaction"
                f" {row['transaction_id']}, younger than this one ({row['own_transaction_id']})"
            )
    return {row["originator_id"]: row["hash"] for row in rows}


async def read_aggregate(
    conn: asyncpg.Connection, originator_id: UUID, *, up_to_version: int | None = None
) -> list[RecordedEvent]:
    """An aggregate's events in version order, optionally only up to a version."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE originator_id = $1"
        " AND ($2::bigint IS NULL OR originator_version <= $2) ORDER BY originator_version",
        originator_id,
        up_to_version,
    )
    return [RecordedEvent(**row) for row in rows]


async def read_histories_before(
    conn: asyncpg.Connection, first_versions: dict[UUID, int]
) -> list[RecordedEvent]:
    """The events of several aggregates that come before the given version of each, in version
    order: what a follower needs to fold a batch that starts in the middle of their histories."""
    if not first_versions:
        return []
    rows = await conn.fetch(
        f"SELECT {', '.join('e.' + c.strip() for c in _COLUMNS.split(','))} FROM events e"
        " JOIN unnest($1::uuid[], $2::bigint[]) AS w(id, version)"
        " ON e.originator_id = w.id AND e.originator_version < w.version"
        " ORDER BY e.originator_id, e.originator_version",
        list(first_versions),
        list(first_versions.values()),
    )
    return [RecordedEvent(**row) for row in rows]


async def read_log(
    conn: asyncpg.Connection,
    after: LogPosition,
    limit: int,
    up_to: LogPosition | None = None,
    *,
    partition: tuple[int, int] = (0, 1),
) -> list[RecordedEvent]:
    """The next events of the whole log after `after`, in (transaction id, position) order.

    Only transactions older than every transaction still running are read: an event becomes
    visible once every transaction that could still insert before it in this order has ended,
    so a follower sees each committed event exactly once, even when an earlier transaction
    commits after a later one. With `up_to`, nothing after that place is read. `partition`,
    (k, N): only the events of the accounts of partition k of N (migration 0020).
    """
    index, count = partition
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events"
        " WHERE (transaction_id, position) > ($1::xid8, $2::bigint)"
        " AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
        " AND ($4::xid8 IS NULL OR (transaction_id, position) <= ($4::xid8, $5::bigint))"
        + ("" if count == 1 else " AND risiti_account_partition(account_id, $7) = $6")
        + " ORDER BY transaction_id, position LIMIT $3",
        after.transaction_id,
        after.position,
        limit,
        up_to.transaction_id if up_to else None,
        up_to.position if up_to else None,
        *(() if count == 1 else (index, count)),
    )
    return [RecordedEvent(**row) for row in rows]


async def read_log_ahead(
    conn: asyncpg.Connection,
    after: LogPosition,
    limit: int,
    up_to: LogPosition | None = None,
) -> AsyncIterator[list[RecordedEvent]]:
    """`read_log` batch after batch, the next one already being read while the caller works on
    the one it was given (rebuilds: the database reads while Python folds)."""
    reading = asyncio.create_task(read_log(conn, after, limit, up_to))
    try:
        while batch := await reading:
            reading = asyncio.create_task(read_log(conn, batch[-1].log_position, limit, up_to))
            yield batch
    finally:
        if not reading.done():
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading


def aggregate_share(k: int, n: int) -> tuple[UUID, UUID | None]:
    """The k-th of n equal ranges of aggregate ids, [lower, upper); ids are random, so each
    range holds about 1/n of the aggregates."""
    lower = UUID(int=k * (1 << 128) // n)
    return lower, (UUID(int=(k + 1) * (1 << 128) // n) if k + 1 < n else None)


async def read_aggregates(
    conn: asyncpg.Connection,
    ids: tuple[UUID, UUID | None],
    up_to: LogPosition,
    limit: int,
) -> AsyncIterator[list[HistoryRecord]]:
    """The events up to `up_to` of the aggregates whose ids lie in `ids` = [lower, upper),
    aggregate after aggregate in version order, batch after batch, the next batch being read
    while the caller works (a rebuild's share of the log, read through the primary key and
    nothing besides it)."""
    lower, upper = ids

    async def after(originator_id: UUID, version: int) -> list[HistoryRecord]:
        rows = await conn.fetch(
            "SELECT originator_id, originator_version, topic, state FROM events"
            " WHERE ($1::uuid IS NULL OR originator_id < $1)"
            " AND (originator_id, originator_version) > ($2::uuid, $3::bigint)"
            " AND (transaction_id, position) <= ($4::xid8, $5::bigint)"
            " ORDER BY originator_id, originator_version LIMIT $6",
            upper,
            originator_id,
            version,
            up_to.transaction_id,
            up_to.position,
            limit,
        )
        return [HistoryRecord(*row) for row in rows]

    reading = asyncio.create_task(after(lower, 0))
    try:
        while batch := await reading:
            last = batch[-1]
            reading = asyncio.create_task(after(last.originator_id, last.originator_version))
            yield batch
    finally:
        if not reading.done():
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading


class PostgresRecorder:
    """The `recording.Recorder` of the `events` table: units of work are transactions on a
    pooled connection, followed after commit by the followers' wake-up; or, `joined` to a
    connection's open transaction, savepoints in it that commit only with it (whoever owns it
    commits and then calls `notify_appended`)."""

    def __init__(self, pool: asyncpg.Pool, joined: asyncpg.Connection | None = None) -> None:
        self.pool = pool
        self.joined = joined

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresUnitOfWork]:
        if self.joined is not None:
            async with self.joined.transaction():
                unit = PostgresUnitOfWork(self.joined, owns_transaction=False)
                yield unit
                await unit.write_pending_rows()
            return
        async with self.pool.acquire() as conn:
            # BEGIN and COMMIT by hand, so that the commit and the wake-up share a round trip.
            await conn.execute("BEGIN")
            unit = PostgresUnitOfWork(conn)
            try:
                try:
                    yield unit
                    await unit.write_pending_rows()
                except BaseException:
                    if not conn.is_closed():
                        await conn.execute("ROLLBACK")
                    raise
                await conn.execute(_COMMIT_AND_NOTIFY)
            finally:
                unit.side_tables.end_turn()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for reads: the joined one, so they see its transaction's own writes."""
        if self.joined is not None:
            yield self.joined
            return
        async with self.pool.acquire() as conn:
            yield conn

    async def read_aggregate(
        self, originator_id: UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        async with self.connection() as conn:
            return await read_aggregate(conn, originator_id, up_to_version=up_to_version)

    async def read_log(
        self, after: LogPosition, limit: int, up_to: LogPosition | None = None
    ) -> list[RecordedEvent]:
        async with self.connection() as conn:
            return await read_log(conn, after, limit, up_to)


class PostgresUnitOfWork:
    """One transaction of the `PostgresRecorder`; `conn` is its connection, for the commands
    that still write their own rows beside the events."""

    def __init__(self, conn: asyncpg.Connection, *, owns_transaction: bool = True) -> None:
        self.conn = conn
        self.side_tables = PostgresSideTables(conn, takes_turns=owns_transaction)

    async def append(
        self,
        events: Sequence[StoredEvent],
        *,
        account_id: UUID | None,
        livemode: bool | None,
        actor: str | None = None,
    ) -> list[int]:
        """Append, with the side tables' rows that wait for it in the same statement."""
        return await append_events(
            self.conn,
            events,
            account_id=account_id,
            livemode=livemode,
            actor=actor,
            rows=self.side_tables.take_pending_rows(),
        )

    async def write_pending_rows(self) -> None:
        """Rows still waiting for an append that never came, before the transaction ends."""
        await write_rows(self.conn, self.side_tables.take_pending_rows())

    async def read_aggregate(
        self, originator_id: UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        return await read_aggregate(self.conn, originator_id, up_to_version=up_to_version)

    async def transaction_id(self) -> int:
        xid: int = await self.conn.fetchval("SELECT pg_current_xact_id()")
        return xid


class PostgresSideTables:
    """`recording.SideTables` in their tables, on the events' connection: the SQL of the
    tables' own modules, one statement each."""

    def __init__(self, conn: asyncpg.Connection, *, takes_turns: bool = False) -> None:
        self._conn = conn
        self._pending: list[RowWrite] = []
        self._takes_turns = takes_turns
        self._turn: asyncio.Lock | None = None

    def end_turn(self) -> None:
        """The transaction ended: the next one in this process may take the series' number."""
        if self._turn is not None:
            self._turn.release()
            self._turn = None

    def take_pending_rows(self) -> list[RowWrite]:
        """The rows waiting for the next append, which writes them (row_writes.py)."""
        pending, self._pending = self._pending, []
        return pending

    async def save_invoice_token(self, token: str, invoice_id: UUID) -> None:
        self._pending.append(invoice_keys.invoice_token_row(token, invoice_id))

    async def claim_invoice_number(
        self, account_id: UUID, livemode: bool, number: str, invoice_id: UUID
    ) -> None:
        """Written with the events: RowTakenError, if the number is taken, from the append."""
        self._pending.append(
            invoice_keys.invoice_number_row(account_id, livemode, number, invoice_id)
        )

    async def take_next_number(
        self, account_id: UUID, livemode: bool, prefix: str, year: int
    ) -> int:
        # Only a transaction of its own, which ends in PostgresRecorder.transaction, waits for
        # a turn (series_turns.py); a savepoint's would outlive it.
        if self._takes_turns and self._turn is None:
            self._turn = await TURNS.wait_turn((account_id, livemode, prefix, year))
        return await invoice_keys.take_next_number(self._conn, account_id, livemode, prefix, year)

    async def save_customer(
        self,
        customer_id: UUID,
        account_id: UUID,
        livemode: bool,
        email: str | None,
        created_at: datetime,
        record: dict[str, Any],
    ) -> bool:
        return await listings.save_customer(
            self._conn, customer_id, account_id, livemode, email, created_at, record
        )

    async def claim_external_id(
        self, account_id: UUID, livemode: bool, kind: str, external_id: str, holder_id: UUID
    ) -> UUID:
        return await external_ids.claim_external_id(
            self._conn, account_id, livemode, kind, external_id, holder_id
        )

    async def find_external_id(
        self, account_id: UUID, livemode: bool, kind: str, external_id: str
    ) -> UUID | None:
        return await external_ids.find_external_id(
            self._conn, account_id, livemode, kind, external_id
        )

    async def save_product(
        self,
        product_id: UUID,
        account_id: UUID,
        livemode: bool,
        sku: str,
        created_at: datetime,
        record: dict[str, Any],
    ) -> None:
        try:
            await listings.save_product(
                self._conn, product_id, account_id, livemode, sku, created_at, record
            )
        except asyncpg.UniqueViolationError:
            raise RowTakenError(sku) from None

    async def save_listed_record(
        self,
        table: str,
        row_id: UUID,
        account_id: UUID,
        livemode: bool,
        created_at: datetime,
        record: dict[str, Any],
    ) -> None:
        await listings.save_listed_record(
            self._conn, table, row_id, account_id, livemode, created_at, record
        )

    async def delete_webhook_endpoint_record(self, endpoint_id: UUID) -> None:
        await listings.delete_webhook_endpoint_record(self._conn, endpoint_id)

    async def set_signed_requests(self, account_id: UUID, required: bool) -> None:
        await accounts.set_signed_requests(self._conn, account_id, required)

    async def set_reminder_days(self, account_id: UUID, reminder_days: list[int]) -> None:
        await accounts.set_reminder_days(self._conn, account_id, reminder_days)

    async def set_negative_stock_allowed(self, account_id: UUID, allowed: bool) -> None:
        await accounts.set_negative_stock_allowed(self._conn, account_id, allowed)

    async def negative_stock_allowed(self, account_id: UUID) -> bool:
        return await accounts.negative_stock_allowed(self._conn, account_id)

    async def find_product_by_sku(self, account_id: UUID, livemode: bool, sku: str) -> UUID | None:
        return await listings.find_product_by_sku(self._conn, account_id, livemode, sku)

    async def find_stock_adjustment(
        self, product_id: UUID, reference: str
    ) -> inventory.StockAdjustmentRow | None:
        return await inventory.find_stock_adjustment(self._conn, product_id, reference)

    async def save_stock_adjustment(
        self,
        product_id: UUID,
        reference: str,
        delta: int,
        reason: str,
        stock_after: int,
        created_at: datetime,
    ) -> bool:
        return await inventory.save_stock_adjustment(
            self._conn, product_id, reference, delta, reason, stock_after, created_at
        )

    async def add_inventory_job(self, job_id: UUID, invoice_id: UUID, kind: str) -> bool:
        return await outbox.insert_inventory_job(self._conn, job_id, invoice_id, kind)

    async def claim_inventory_job(self, job_id: UUID) -> tuple[UUID, str] | None:
        return await outbox.claim_inventory_job(self._conn, job_id)

    async def lock_invoice_stock(self, invoice_id: UUID) -> None:
        await inventory.lock_invoice_stock(self._conn, invoice_id)

    async def stock_movements(self, invoice_id: UUID) -> dict[tuple[int, str], int]:
        return await inventory.stock_movements(self._conn, invoice_id)

    async def save_stock_movement(
        self, invoice_id: UUID, line: int, kind: str, product_id: UUID, quantity: int
    ) -> None:
        await inventory.save_stock_movement(
            self._conn, invoice_id, line, kind, product_id, quantity
        )

    async def deduction_pending(self, invoice_id: UUID) -> bool:
        return await inventory.deduction_pending(self._conn, invoice_id)

    async def stock_amendments(self, invoice_id: UUID) -> dict[tuple[int, UUID], int]:
        return await inventory.stock_amendments(self._conn, invoice_id)

    async def save_stock_amendment(
        self, invoice_id: UUID, version: int, product_id: UUID, quantity: int
    ) -> None:
        await inventory.save_stock_amendment(self._conn, invoice_id, version, product_id, quantity)
