"""The invoice_list read model: one row per invoice, newest first, for `GET /v1/invoices`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate

from risiti.domain import calendar
from risiti.domain.invoice import DELETED, UNPAID, Invoice
from risiti.eventstore.overdue_sql import overdue_sql
from risiti.eventstore.paging import Place, cursor_after, newest_first, seek
from risiti.presentation.documents import invoice_record, record_json

INVOICE_TOPICS: tuple[str, ...] = (f"{Invoice.__module__}:{Invoice.__qualname__}.",)

_COLUMNS = (
    "id",
    "account_id",
    "livemode",
    "type",
    "status",
    "currency",
    "document_number",
    "view_token",
    "customer_id",
    "customer_name",
    "customer_email",
    "reference",
    "total",
    "amount_paid",
    "amount_due",
    "due_date",
    "created_at",
    "version",
    "document",
)
"""The columns `_row` fills, in its order; `search` is generated from them (migration 0023)."""
_UPSERT = f"""
INSERT INTO invoice_list ({", ".join(_COLUMNS)})
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::boolean[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[], $13::bigint[],
    $14::bigint[], $15::bigint[], $16::date[], $17::timestamptz[], $18::bigint[], $19::json[])
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, currency = EXCLUDED.currency,
    document_number = EXCLUDED.document_number, customer_id = EXCLUDED.customer_id,
    customer_name = EXCLUDED.customer_name, customer_email = EXCLUDED.customer_email,
    reference = EXCLUDED.reference, total = EXCLUDED.total, amount_paid = EXCLUDED.amount_paid,
    amount_due = EXCLUDED.amount_due, due_date = EXCLUDED.due_date, version = EXCLUDED.version,
    document = EXCLUDED.document
"""


class InvoiceListProjection:
    """Keeps each invoice's latest record, with the columns lists filter and sort on."""

    name = "invoice_list"
    tables: tuple[str, ...] = ("invoice_list",)
    topics: tuple[str, ...] = INVOICE_TOPICS

    def changes(self, aggregates: list[Aggregate]) -> ListChanges:
        """The rows the batch's invoices now read as, and the drafts it deleted."""
        invoices = invoices_among(aggregates)
        return ListChanges(
            deleted=[i.id for i in invoices if i.status == DELETED],
            rows=[_row(i) for i in invoices if i.status != DELETED],
        )

    async def write_once(self, conn: asyncpg.Connection, changes: ListChanges) -> None:
        """The rows, copied in: a rebuild meets each invoice once, so nothing is to delete or
        update, and a deleted draft has simply no row."""
        if changes.rows:
            await conn.copy_records_to_table("invoice_list", records=changes.rows, columns=_COLUMNS)

    async def finish_rebuild(self, conn: asyncpg.Connection) -> None:
        """Nothing: every row is written by `write_once`."""

    async def write(self, conn: asyncpg.Connection, changes: ListChanges) -> None:
        """One statement for the deleted drafts, one for every other invoice."""
        if changes.deleted:
            await conn.execute(
                "DELETE FROM invoice_list WHERE id = ANY($1::uuid[])", changes.deleted
            )
        if changes.rows:
            await conn.execute(
                _UPSERT, *(list(column) for column in zip(*changes.rows, strict=True))
            )


@dataclass(frozen=True)
class ListChanges:
    deleted: list[UUID]
    rows: list[tuple[Any, ...]]


def invoices_among(aggregates: list[Aggregate]) -> list[Invoice]:
    return [aggregate for aggregate in aggregates if isinstance(aggregate, Invoice)]


def customer_id_of(invoice: Invoice) -> UUID | None:
    """The invoice's customer's id, if it has one (a UUID, or its text in older events)."""
    customer_id = invoice.customer.get("id")
    if not customer_id:
        return None
    return customer_id if isinstance(customer_id, UUID) else UUID(str(customer_id))


def _row(invoice: Invoice) -> tuple[Any, ...]:
    record = invoice_record(invoice)
    customer = record["customer"]
    return (
        invoice.id,
        invoice.account_id,
        invoice.livemode,
        invoice.document_type,
        invoice.status,
        invoice.currency,
        invoice.document_number,
        invoice.view_token,
        customer_id_of(invoice),
        customer["name"] or "",
        customer["email"],
        invoice.reference,
        record["total"],
        record["amount_paid"],
        record["amount_due"],
        invoice.due_date,
        invoice.created_on,
        invoice.version,
        record_json(record),
    )


# ListedInvoice's columns, in its order (it reads them by position), then the cursor's.
_PAGE_COLUMNS = "document, view_token, status, due_date, created_at, id"


@dataclass(frozen=True)
class InvoiceFilters:
    """What `GET /v1/invoices` may narrow the list by; every field optional."""

    status: str | None = None
    statuses: tuple[str, ...] | None = None
    """Only these statuses (a dialect's list: Invoice.ng's shows no void invoices)."""
    customer_id: UUID | None = None
    type: str | None = None
    currency: str | None = None
    created_gte: datetime | None = None
    created_lte: datetime | None = None
    due_gte: date | None = None
    due_lte: date | None = None
    q: str | None = None
    today: date = field(default_factory=calendar.today)


def _column(position: int) -> Any:
    """A property that reads a row's column by its position, in C."""
    return property(itemgetter(position))


class ListedInvoice(asyncpg.Record):  # type: ignore[misc]  # asyncpg ships no types
    """A row of the list as asyncpg reads it, nothing copied: the stored record's JSON text and
    what presenting it needs (a `StoredInvoice`), then the cursor's columns. Making a tuple of
    each row cost a page of 50 more than presenting it took."""

    document: str = _column(0)
    view_token: str = _column(1)
    status: str = _column(2)
    due_date: date | None = _column(3)


@dataclass(frozen=True)
class InvoicePage:
    invoices: list[ListedInvoice]
    has_more: bool
    next_cursor: str | None


class _Where:
    """SQL conditions and their parameters, numbered as they are added."""

    def __init__(self, *params: Any) -> None:
        self.params = list(params)
        self.conditions: list[str] = []

    def add(self, condition: str, *values: Any) -> None:
        for value in values:
            self.params.append(value)
            condition = condition.replace("?", f"${len(self.params)}", 1)
        self.conditions.append(condition)

    def sql(self) -> str:
        return " AND ".join(self.conditions)


def _where(account_id: UUID, livemode: bool, filters: InvoiceFilters) -> _Where:
    where = _Where(account_id, livemode)
    where.add("account_id = $1 AND livemode = $2")
    if filters.status == "overdue":
        where.add(overdue_sql("?"), filters.today)
    elif filters.status == "unpaid":
        where.add("status = ANY(?)", list(UNPAID))
    elif filters.status:
        where.add("status = ?", filters.status)
    if filters.statuses is not None:
        where.add("status = ANY(?)", list(filters.statuses))
    simple = {
        "customer_id = ?": filters.customer_id,
        "type = ?": filters.type,
        "currency = ?": filters.currency,
        "created_at >= ?": filters.created_gte,
        "created_at <= ?": filters.created_lte,
        "due_date >= ?": filters.due_gte,
        "due_date <= ?": filters.due_lte,
    }
    for condition, value in simple.items():
        if value is not None:
            where.add(condition, value)
    email = customer_email_in(filters.q)
    if email is not None:
        where.add("lower(customer_email) = ?", email)
    elif filters.q is not None:
        query = search_query(filters.q)
        if query is None:
            where.add("false")  # nothing searchable in q: nothing matches it
        else:
            where.add("search @@ to_tsquery('simple', ?)", query)
    return where


_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


def customer_email_in(q: str | None) -> str | None:
    """The email address `q` is, if it is one: it finds that customer's invoices through an
    index already in list order, where the word search would fetch and sort them all."""
    if q is None or not _EMAIL.fullmatch(q.strip()):
        return None
    return q.strip().lower()


def search_query(q: str) -> str | None:
    """Every word of `q` as a word that must appear (`ada obi`, `INV-2026-0001`,
    `ada@example.com`); None when `q` has no word to search for. Whole words, not prefixes:
    PostgreSQL estimates how many rows a word matches, and so uses the GIN index, but not for a
    prefix, which it would answer by reading every invoice of the account."""
    words = re.findall(r"\w[\w@.+-]*", q.lower())
    return " & ".join("'" + word.replace("'", "''") + "'" for word in words) or None


def list_query(
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    filters: InvoiceFilters | None = None,
    after: Place | None = None,
    backward: bool = False,
) -> tuple[str, list[Any]]:
    """The SQL of a page of the list and its parameters (benchmarks and EXPLAIN tests run it
    as it is); `backward`, the rows just newer than `after`, oldest first."""
    where = _where(account_id, livemode, filters or InvoiceFilters())
    comparison, order = seek(backward=backward)
    if after is not None:
        where.add(f"(created_at, id) {comparison} (?, ?::uuid)", after[0], after[1])
    where.params.append(limit + 1)
    source = f"invoice_list WHERE {where.sql()}"
    if filters is not None and filters.q is not None and customer_email_in(filters.q) is None:
        # A search finds few rows through the GIN index; planned with the ORDER BY and LIMIT,
        # PostgreSQL may rather walk the whole account newest first, filtering every row.
        # OFFSET 0 keeps the search planned on its own; its matches are then sorted.
        # Only the columns the page needs go through the sort, not the tsvector and the rest.
        source = f"(SELECT {_PAGE_COLUMNS} FROM {source} OFFSET 0) AS matches"
    sql = (
        f"SELECT {_PAGE_COLUMNS.replace('document', 'document::text', 1)}"
        f" FROM {source} ORDER BY created_at {order}, id {order} LIMIT ${len(where.params)}"
    )
    return sql, where.params


async def list_invoices(
    conn: asyncpg.Connection | asyncpg.Pool,
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    filters: InvoiceFilters | None = None,
    after: Place | None = None,
    backward: bool = False,
) -> InvoicePage:
    """A page of an account's invoices, newest first, after a cursor's place; `backward`, the
    page just before it (`ending_before`), still newest first."""
    sql, params = list_query(
        account_id, livemode, limit=limit, filters=filters, after=after, backward=backward
    )
    rows = await conn.fetch(sql, *params, record_class=ListedInvoice)
    page, has_more = newest_first(rows, limit, backward=backward)
    return InvoicePage(
        invoices=page,
        has_more=has_more,
        next_cursor=cursor_after(page, has_more, backward=backward),
    )


async def find_invoice_cursor(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, livemode: bool, invoice_id: UUID
) -> Place | None:
    """The place of an invoice in the list, for `starting_after=<id>` or `ending_before=<id>`."""
    row = await conn.fetchrow(
        "SELECT created_at, id FROM invoice_list WHERE id = $1 AND account_id = $2"
        " AND livemode = $3",
        invoice_id,
        account_id,
        livemode,
    )
    return (row["created_at"], row["id"]) if row else None
