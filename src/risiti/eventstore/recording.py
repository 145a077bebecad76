"""What the service layer needs of an event recorder, as Protocols, so that the `Ledger` runs on
PostgreSQL (`recorder.PostgresRecorder`) or in memory (`memory.MemoryRecorder`, for tests of
the service layer without a database). Both pass one contract suite
(tests/integration/recorder_contract.py).

A recorder appends in units of work: what one appends commits together or not at all, each
aggregate's versions are taken once (optimistic concurrency), every event is hashed onto the one
before it of its aggregate, and the log reads back in one stable order, (transaction id,
position), in which an aggregate's versions come in version order.

Beside the events a unit of work holds the rows written with them (`SideTables`): the hosted
page's token, the document number (unique per account and mode), the gap-free counter of each
series, the listed records of customers (unique email), products (unique sku), tax rates and
webhook endpoints, the external ids of customers and tax rates (unique per kind), the account
settings read beside the log, and the inventory rows that make stock move once (adjustment
references, inventory jobs, each invoice line's stock movements).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from risiti.eventstore.inventory import StockAdjustmentRow
from risiti.eventstore.recorder import LogPosition, RecordedEvent


class SideTables(Protocol):
    """The rows written beside the log in the events' transaction, one method per table
    (`commands/side_tables.py` says which event writes which)."""

    async def save_invoice_token(self, token: str, invoice_id: UUID) -> None:
        """Keep the hosted page's token of an invoice (PostgreSQL writes it with the next
        append, in the events' own statement)."""

    async def claim_invoice_number(
        self, account_id: UUID, livemode: bool, number: str, invoice_id: UUID
    ) -> None:
        """Give the number to the invoice; RowTakenError if another invoice of the account and
        mode holds it, from here or, where the row is written with the events (PostgreSQL),
        from the next append."""

    async def take_next_number(
        self, account_id: UUID, livemode: bool, prefix: str, year: int
    ) -> int:
        """The next number of a series (1, 2, …); given back if the unit of work rolls back."""

    async def save_customer(
        self,
        customer_id: UUID,
        account_id: UUID,
        livemode: bool,
        email: str | None,
        created_at: datetime,
        record: dict[str, Any],
    ) -> bool:
        """Keep a new customer's record; False if the account and mode already have a customer
        with this email."""

    async def claim_external_id(
        self, account_id: UUID, livemode: bool, kind: str, external_id: str, holder_id: UUID
    ) -> UUID:
        """Give a customer's or tax rate's external id (`kind`: customer, tax_rate) to
        `holder_id`; the id of who holds it now in the account and mode, another's if it was
        taken."""

    async def find_external_id(
        self, account_id: UUID, livemode: bool, kind: str, external_id: str
    ) -> UUID | None:
        """The id of the account and mode's `kind` with this external id, if there is one."""

    async def save_product(
        self,
        product_id: UUID,
        account_id: UUID,
        livemode: bool,
        sku: str,
        created_at: datetime,
        record: dict[str, Any],
    ) -> None:
        """Keep a product's record as it now reads; RowTakenError if its sku is another
        product's of the account and mode."""

    async def save_listed_record(
        self,
        table: str,
        row_id: UUID,
        account_id: UUID,
        livemode: bool,
        created_at: datetime,
        record: dict[str, Any],
    ) -> None:
        """Keep a tax rate's or a webhook endpoint's listed record as it now reads."""

    async def delete_webhook_endpoint_record(self, endpoint_id: UUID) -> None:
        """List a deleted endpoint no more."""

    async def set_signed_requests(self, account_id: UUID, required: bool) -> None:
        """Copy the account's setting that the edge reads with each key."""

    async def set_reminder_days(self, account_id: UUID, reminder_days: list[int]) -> None:
        """Copy the account's reminder days that the reminders job reads."""

    async def set_negative_stock_allowed(self, account_id: UUID, allowed: bool) -> None:
        """Copy the account's stock setting that the stock job reads."""

    async def negative_stock_allowed(self, account_id: UUID) -> bool:
        """Whether the account lets stock go below zero (False until it says so)."""

    async def find_product_by_sku(self, account_id: UUID, livemode: bool, sku: str) -> UUID | None:
        """The id of the account and mode's product with this sku, if there is one."""

    async def find_stock_adjustment(
        self, product_id: UUID, reference: str
    ) -> StockAdjustmentRow | None:
        """The adjustment of a product posted with a reference, if there was one."""

    async def save_stock_adjustment(
        self,
        product_id: UUID,
        reference: str,
        delta: int,
        reason: str,
        stock_after: int,
        created_at: datetime,
    ) -> bool:
        """Note an adjustment's reference; False if the product already has one with it."""

    async def add_inventory_job(self, job_id: UUID, invoice_id: UUID, kind: str) -> bool:
        """Keep a pending job moving an invoice's stock (as the dispatcher does); False if it
        is kept already."""

    async def claim_inventory_job(self, job_id: UUID) -> tuple[UUID, str] | None:
        """Mark a pending job done: (invoice id, kind), or None if it was done already."""

    async def lock_invoice_stock(self, invoice_id: UUID) -> None:
        """Hold the invoice's stock moves until the unit of work ends, so that its deduction
        and its restoration never run at once."""

    async def stock_movements(self, invoice_id: UUID) -> dict[tuple[int, str], int]:
        """What each (line, kind) of an invoice already did to stock: the units it moved."""

    async def save_stock_movement(
        self, invoice_id: UUID, line: int, kind: str, product_id: UUID, quantity: int
    ) -> None:
        """Note what one line of an invoice did to stock."""

    async def deduction_pending(self, invoice_id: UUID) -> bool:
        """Whether the invoice's deduction job is still pending (its stock not yet taken)."""

    async def stock_amendments(self, invoice_id: UUID) -> dict[tuple[int, UUID], int]:
        """What each (invoice version, product) of an invoice's amendments did to stock: the
        units taken (positive) or given back (negative)."""

    async def save_stock_amendment(
        self, invoice_id: UUID, version: int, product_id: UUID, quantity: int
    ) -> None:
        """Note what the amendment at `version` of an invoice did to a product's stock."""


class UnitOfWork(Protocol):
    """One open transaction of a recorder."""

    @property
    def side_tables(self) -> SideTables: ...

    async def append(
        self,
        events: Sequence[StoredEvent],
        *,
        account_id: UUID | None,
        livemode: bool | None,
        actor: str | None = None,
    ) -> list[int]:
        """Append events; their positions. VersionConflictError if another writer took one of
        the versions, AppendOutOfOrderError if an aggregate's previous version was appended by
        a younger transaction than this one."""

    async def read_aggregate(
        self, originator_id: UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        """An aggregate's events in version order, this unit of work's own appends included."""

    async def transaction_id(self) -> int:
        """This unit of work's transaction id, taken now if it has none yet (it takes one at
        its first write otherwise)."""


class Recorder(Protocol):
    """An event recorder."""

    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work, committed when the block ends and rolled back if it raises."""

    async def read_aggregate(
        self, originator_id: UUID, *, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        """An aggregate's committed events in version order, optionally up to a version."""

    async def read_log(
        self, after: LogPosition, limit: int, up_to: LogPosition | None = None
    ) -> list[RecordedEvent]:
        """The next committed events of the whole log after `after` in (transaction id,
        position) order, none of them before an event of a transaction still open."""
