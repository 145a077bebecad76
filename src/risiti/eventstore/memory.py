"""An event recorder in memory, for tests of the service layer without a database (as
cosmicpython's `tests/unit/fakes.py`): the `Ledger` runs on it as on PostgreSQL, and it passes
the same contract suite as `PostgresRecorder` (tests/integration/recorder_contract.py).

It keeps what the PostgreSQL recorder guarantees, in one process's memory:
- a unit of work's events and rows become visible together when it commits, or never;
- each (originator_id, version) is taken once: a second writer gets VersionConflictError at
  once, where PostgreSQL would first wait for the holder to commit or roll back;
- each event is hashed onto the one before it of its aggregate;
- a unit of work takes a transaction id at its first write, from one rising counter, and the
  log is read in (transaction id, position) order only up to the oldest unit still open, so that
  an older one committing last is not skipped; appending after a version that a younger unit
  appended is refused (AppendOutOfOrderError), so an aggregate's versions come in version order.

Positions come from one counter that a rollback does not give back, like a sequence.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from risiti.eventstore.errors import AppendOutOfOrderError, RowTakenError, VersionConflictError
from risiti.eventstore.hashchain import GENESIS, chain_hash
from risiti.eventstore.inventory import StockAdjustmentRow
from risiti.eventstore.recorder import LogPosition, RecordedEvent


class MemoryRecorder:
    """The `recording.Recorder` of a list in memory, with the side tables in dictionaries."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.tokens: dict[str, UUID] = {}
        self.numbers: dict[tuple[UUID, bool, str], UUID] = {}
        self.counters: dict[tuple[UUID, bool, str, int], int] = {}
        self.customer_emails: dict[tuple[UUID, bool, str], UUID] = {}
        self.product_skus: dict[tuple[UUID, bool, str], UUID | None] = {}
        self.external_ids: dict[tuple[UUID, bool, str, str], UUID] = {}
        # Each listed table's records by id (None once deleted), and the copied settings.
        self.listed: dict[str, dict[UUID, dict[str, Any] | None]] = {
            table: {}
            for table in ("customers", "products", "tax_rates", "webhook_endpoint_records")
        }
        self.settings: dict[tuple[UUID, str], object] = {}
        self.stock_adjustments: dict[tuple[UUID, str], StockAdjustmentRow] = {}
        # Each inventory job's (invoice id, kind, status), and each line's (product, units).
        self.inventory_jobs: dict[UUID, tuple[UUID, str, str]] = {}
        self.stock_movements: dict[tuple[UUID, int, str], tuple[UUID, int]] = {}
        self.stock_amendments: dict[tuple[UUID, int, UUID], int] = {}
        self._versions: dict[tuple[UUID, int], RecordedEvent] = {}
        self._holders: dict[object, MemoryUnitOfWork] = {}
        self._positions = itertools.count(1)
        self._transaction_ids = itertools.count(1)
        self._open: set[MemoryUnitOfWork] = set()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryUnitOfWork]:
        unit = MemoryUnitOfWork(self)
        self._open.add(unit)
        try:
            yield unit
        except BaseException:
            unit.roll_back()
            raise
        else:
            self._commit(unit)
        finally:
            self._open.discard(unit)
            self._holders = {k: u for k, u in self._holders.items() if u is not unit}

    async def read_aggregate(
        self, originator_id: UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        return _of_aggregate(self.events, originator_id, up_to_version)

    async def read_log(
        self, after: LogPosition, limit: int, up_to: LogPosition | None = None
    ) -> list[RecordedEvent]:
        open_ids = [u.own_transaction_id for u in self._open if u.own_transaction_id is not None]
        horizon = min(open_ids, default=None)
        visible = [
            e
            for e in self.events
            if e.log_position > after
            and (horizon is None or e.transaction_id < horizon)
            and (up_to is None or e.log_position <= up_to)
        ]
        return sorted(visible, key=lambda e: e.log_position)[:limit]

    def next_transaction_id(self) -> int:
        return next(self._transaction_ids)

    def next_position(self) -> int:
        return next(self._positions)

    def hold(self, unit: MemoryUnitOfWork, key: object, taken: Exception) -> None:
        """Hold `key` (an aggregate's version, a counter) for `unit` until it ends; raise
        `taken` if another open unit holds it, which PostgreSQL's row lock would make wait."""
        holder = self._holders.setdefault(key, unit)
        if holder is not unit:
            raise taken

    def committed_version(self, originator_id: UUID, version: int) -> RecordedEvent | None:
        return self._versions.get((originator_id, version))

    def _commit(self, unit: MemoryUnitOfWork) -> None:
        for event in unit.appended:
            self.events.append(event)
            self._versions[(event.originator_id, event.originator_version)] = event


class MemoryUnitOfWork:
    """One unit of work of the `MemoryRecorder`: its events, kept apart until it commits, and
    its rows, written at once and undone if it rolls back."""

    def __init__(self, recorder: MemoryRecorder) -> None:
        self.recorder = recorder
        self.appended: list[RecordedEvent] = []
        self.own_transaction_id: int | None = None
        self.undo: list[Callable[[], object]] = []
        self.side_tables = MemorySideTables(self)

    async def append(
        self,
        events: Sequence[StoredEvent],
        *,
        account_id: UUID | None,
        livemode: bool | None,
        actor: str | None = None,
    ) -> list[int]:
        if not events:
            return []
        own = await self.transaction_id()
        # All or nothing, as one INSERT: every event is checked before any is kept.
        last: dict[UUID, RecordedEvent | None] = {}
        for stored in events:
            originator_id = UUID(str(stored.originator_id))
            version = stored.originator_version
            self._check_free(originator_id, version)
            if originator_id not in last:
                last[originator_id] = self._before(originator_id, version, own)
        recorded = []
        for stored in events:
            originator_id = UUID(str(stored.originator_id))
            event = self._recorded(stored, own, last[originator_id], account_id, livemode, actor)
            last[originator_id] = event
            recorded.append(event)
        self.appended.extend(recorded)
        return [e.position for e in recorded]

    def _check_free(self, originator_id: UUID, version: int) -> None:
        taken = VersionConflictError(f"{originator_id} v{version} is taken")
        if self.recorder.committed_version(originator_id, version) or self._own(
            originator_id, version
        ):
            raise taken
        self.recorder.hold(self, (originator_id, version), taken)

    def _before(self, originator_id: UUID, version: int, own: int) -> RecordedEvent | None:
        """The event before `version`, refused if a younger unit appended it."""
        if version == 1:
            return None
        before = self.recorder.committed_version(originator_id, version - 1)
        before = before or self._own(originator_id, version - 1)
        if before is not None and before.transaction_id > own:
            raise AppendOutOfOrderError(
                f"{originator_id} v{version - 1} was appended by transaction"
                f" {before.transaction_id}, younger than this one ({own})"
            )
        return before

    def _recorded(
        self,
        stored: StoredEvent,
        own: int,
        before: RecordedEvent | None,
        account_id: UUID | None,
        livemode: bool | None,
        actor: str | None,
    ) -> RecordedEvent:
        originator_id = UUID(str(stored.originator_id))
        version = stored.originator_version
        previous_hash = GENESIS if before is None else before.hash
        return RecordedEvent(
            position=self.recorder.next_position(),
            transaction_id=own,
            originator_id=originator_id,
            originator_version=version,
            topic=stored.topic,
            state=stored.state,
            account_id=account_id,
            livemode=livemode,
            recorded_at=datetime.now(UTC),
            hash=chain_hash(previous_hash, originator_id, version, stored.topic, stored.state),
            actor=actor,
        )

    def _own(self, originator_id: UUID, version: int) -> RecordedEvent | None:
        for event in self.appended:
            if (event.originator_id, event.originator_version) == (originator_id, version):
                return event
        return None

    async def read_aggregate(
        self, originator_id: UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        committed = _of_aggregate(self.recorder.events, originator_id, up_to_version)
        return committed + _of_aggregate(self.appended, originator_id, up_to_version)

    async def transaction_id(self) -> int:
        if self.own_transaction_id is None:
            self.own_transaction_id = self.recorder.next_transaction_id()
        return self.own_transaction_id

    def roll_back(self) -> None:
        for undo in reversed(self.undo):
            undo()
        self.appended.clear()


class MemorySideTables:
    """`recording.SideTables` in the recorder's dictionaries, each write undone on rollback."""

    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self._unit = unit
        self._recorder = unit.recorder

    async def _put(self, table: dict[Any, Any], key: object, value: object) -> None:
        await self._unit.transaction_id()  # a write takes a transaction id, as in PostgreSQL
        missing = object()
        before = table.get(key, missing)
        table[key] = value
        if before is missing:
            self._unit.undo.append(lambda: table.pop(key))
        else:
            self._unit.undo.append(lambda: table.__setitem__(key, before))

    async def save_invoice_token(self, token: str, invoice_id: UUID) -> None:
        await self._put(self._recorder.tokens, token, invoice_id)

    async def claim_invoice_number(
        self, account_id: UUID, livemode: bool, number: str, invoice_id: UUID
    ) -> None:
        key = (account_id, livemode, number)
        if key in self._recorder.numbers:
            raise RowTakenError(number)
        await self._put(self._recorder.numbers, key, invoice_id)

    async def take_next_number(
        self, account_id: UUID, livemode: bool, prefix: str, year: int
    ) -> int:
        await self._unit.transaction_id()
        key = (account_id, livemode, prefix, year)
        busy = VersionConflictError(f"the series {prefix}-{year} is being numbered")
        self._recorder.hold(self._unit, ("counter", key), busy)
        taken = self._recorder.counters.get(key, 0) + 1
        await self._put(self._recorder.counters, key, taken)
        return taken

    async def save_customer(
        self,
        customer_id: UUID,
        account_id: UUID,
        livemode: bool,
        email: str | None,
        created_at: datetime,
        record: dict[str, Any],
    ) -> bool:
        if email is not None:
            key = (account_id, livemode, email)
            if key in self._recorder.customer_emails:
                return False
            await self._put(self._recorder.customer_emails, key, customer_id)
        await self._put(self._recorder.listed["customers"], customer_id, record)
        return True

    async def claim_external_id(
        self, account_id: UUID, livemode: bool, kind: str, external_id: str, holder_id: UUID
    ) -> UUID:
        key = (account_id, livemode, kind, external_id)
        holder = self._recorder.external_ids.get(key)
        if holder is not None:
            return holder
        await self._put(self._recorder.external_ids, key, holder_id)
        return holder_id

    async def find_external_id(
        self, account_id: UUID, livemode: bool, kind: str, external_id: str
    ) -> UUID | None:
        return self._recorder.external_ids.get((account_id, livemode, kind, external_id))

    async def save_product(
        self,
        product_id: UUID,
        account_id: UUID,
        livemode: bool,
        sku: str,
        created_at: datetime,
        record: dict[str, Any],
    ) -> None:
        key = (account_id, livemode, sku)
        holder = self._recorder.product_skus.get(key)
        if holder is not None and holder != product_id:
            raise RowTakenError(sku)
        for old, holder in list(self._recorder.product_skus.items()):
            if holder == product_id and old != key:  # its sku changed: the old one is free
                await self._put(self._recorder.product_skus, old, None)
        await self._put(self._recorder.product_skus, key, product_id)
        await self._put(self._recorder.listed["products"], product_id, record)

    async def save_listed_record(
        self,
        table: str,
        row_id: UUID,
        account_id: UUID,
        livemode: bool,
        created_at: datetime,
        record: dict[str, Any],
    ) -> None:
        await self._put(self._recorder.listed[table], row_id, record)

    async def delete_webhook_endpoint_record(self, endpoint_id: UUID) -> None:
        await self._put(self._recorder.listed["webhook_endpoint_records"], endpoint_id, None)

    async def set_signed_requests(self, account_id: UUID, required: bool) -> None:
        await self._put(self._recorder.settings, (account_id, "signed_requests"), required)

    async def set_reminder_days(self, account_id: UUID, reminder_days: list[int]) -> None:
        await self._put(self._recorder.settings, (account_id, "reminder_days"), reminder_days)

    async def set_negative_stock_allowed(self, account_id: UUID, allowed: bool) -> None:
        await self._put(self._recorder.settings, (account_id, "negative_stock"), allowed)

    async def negative_stock_allowed(self, account_id: UUID) -> bool:
        return bool(self._recorder.settings.get((account_id, "negative_stock"), False))

    async def find_product_by_sku(self, account_id: UUID, livemode: bool, sku: str) -> UUID | None:
        return self._recorder.product_skus.get((account_id, livemode, sku))

    async def find_stock_adjustment(
        self, product_id: UUID, reference: str
    ) -> StockAdjustmentRow | None:
        return self._recorder.stock_adjustments.get((product_id, reference))

    async def save_stock_adjustment(
        self,
        product_id: UUID,
        reference: str,
        delta: int,
        reason: str,
        stock_after: int,
        created_at: datetime,
    ) -> bool:
        key = (product_id, reference)
        if key in self._recorder.stock_adjustments:
            return False
        row = StockAdjustmentRow(delta, reason, stock_after, created_at)
        await self._put(self._recorder.stock_adjustments, key, row)
        return True

    async def add_inventory_job(self, job_id: UUID, invoice_id: UUID, kind: str) -> bool:
        if job_id in self._recorder.inventory_jobs:
            return False
        await self._put(self._recorder.inventory_jobs, job_id, (invoice_id, kind, "pending"))
        return True

    async def claim_inventory_job(self, job_id: UUID) -> tuple[UUID, str] | None:
        job = self._recorder.inventory_jobs.get(job_id)
        if job is None or job[2] != "pending":
            return None
        invoice_id, kind, _ = job
        await self._put(self._recorder.inventory_jobs, job_id, (invoice_id, kind, "done"))
        return invoice_id, kind

    async def lock_invoice_stock(self, invoice_id: UUID) -> None:
        # PostgreSQL's advisory lock would make a second unit wait; here it is refused at once,
        # as a taken version is, and the command's retry decides again.
        busy = VersionConflictError(f"the stock of invoice {invoice_id} is being moved")
        self._recorder.hold(self._unit, ("invoice stock", invoice_id), busy)

    async def stock_movements(self, invoice_id: UUID) -> dict[tuple[int, str], int]:
        return {
            (line, kind): quantity
            for (invoice, line, kind), (_, quantity) in self._recorder.stock_movements.items()
            if invoice == invoice_id
        }

    async def save_stock_movement(
        self, invoice_id: UUID, line: int, kind: str, product_id: UUID, quantity: int
    ) -> None:
        key = (invoice_id, line, kind)
        if key in self._recorder.stock_movements:  # the table's primary key
            raise RowTakenError(f"{invoice_id} line {line} {kind}")
        await self._put(self._recorder.stock_movements, key, (product_id, quantity))

    async def deduction_pending(self, invoice_id: UUID) -> bool:
        return (invoice_id, "deduct", "pending") in self._recorder.inventory_jobs.values()

    async def stock_amendments(self, invoice_id: UUID) -> dict[tuple[int, UUID], int]:
        return {
            (version, product): quantity
            for (invoice, version, product), quantity in self._recorder.stock_amendments.items()
            if invoice == invoice_id
        }

    async def save_stock_amendment(
        self, invoice_id: UUID, version: int, product_id: UUID, quantity: int
    ) -> None:
        key = (invoice_id, version, product_id)
        if key in self._recorder.stock_amendments:  # the table's primary key
            raise RowTakenError(f"{invoice_id} version {version} {product_id}")
        await self._put(self._recorder.stock_amendments, key, quantity)


def _of_aggregate(
    events: list[RecordedEvent], originator_id: UUID, up_to_version: int | None
) -> list[RecordedEvent]:
    found = [
        e
        for e in events
        if e.originator_id == originator_id
        and (up_to_version is None or e.originator_version <= up_to_version)
    ]
    return sorted(found, key=lambda e: e.originator_version)
