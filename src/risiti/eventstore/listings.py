"""The list tables: each customer's, tax rate's, product's and webhook endpoint's record as it
now reads, written with its events (`commands/side_tables.py`), and paged newest first.

Two of them also guard uniqueness in the account and mode: a customer's email, a product's sku.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from risiti.eventstore.paging import Place, cursor_after, newest_first, seek


@dataclass(frozen=True)
class RecordPage:
    records: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


# Tables of (id, account_id, livemode, created_at, record) that list an account's objects.
LISTED_TABLES = frozenset({"customers", "tax_rates", "webhook_endpoint_records", "products"})


async def save_listed_record(
    conn: asyncpg.Connection,
    table: str,
    row_id: UUID,
    account_id: UUID,
    livemode: bool,
    created_at: datetime,
    record: dict[str, Any],
) -> None:
    """Keep a tax rate's or an endpoint's record as it now reads (customers keep theirs with
    `save_customer`, which also guards their emails)."""
    if table not in LISTED_TABLES:
        raise ValueError(f"{table} is not a listed table")
    await conn.execute(
        f"INSERT INTO {table} (id, account_id, livemode, created_at, record)"
        " VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (id) DO UPDATE SET record = $5::jsonb",
        row_id,
        account_id,
        livemode,
        created_at,
        json.dumps(record),
    )


async def list_records(
    conn: asyncpg.Connection,
    table: str,
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    after: Place | None,
    backward: bool = False,
    only: UUID | None = None,
) -> RecordPage:
    """A newest-first page of an account's customers, tax rates or endpoints, after a cursor's
    place (`backward`: just before it); with `only`, of that row alone."""
    if table not in LISTED_TABLES:
        raise ValueError(f"{table} is not a listed table")
    comparison, order = seek(backward=backward)
    rows = await conn.fetch(
        f"SELECT record::text, created_at, id FROM {table}"
        " WHERE account_id = $1 AND livemode = $2 AND ($6::uuid IS NULL OR id = $6)"
        f" AND ($3::timestamptz IS NULL OR (created_at, id) {comparison} ($3, $4::uuid))"
        f" ORDER BY created_at {order}, id {order} LIMIT $5",
        account_id,
        livemode,
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
        only,
    )
    return record_page(rows, limit, backward, lambda row: json.loads(row["record"]))


async def find_record_place(
    conn: asyncpg.Connection, table: str, account_id: UUID, livemode: bool, row_id: UUID
) -> Place | None:
    """The place of a listed row in its list, for `starting_after=<id>`."""
    if table not in LISTED_TABLES:
        raise ValueError(f"{table} is not a listed table")
    row = await conn.fetchrow(
        f"SELECT created_at, id FROM {table} WHERE id = $1 AND account_id = $2 AND livemode = $3",
        row_id,
        account_id,
        livemode,
    )
    return (row["created_at"], row["id"]) if row else None


async def list_page(
    conn: asyncpg.Connection,
    table: str,
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
    only: UUID | None = None,
) -> RecordPage | None:
    """A page after (`backward`: before) a cursor's place or the row with an id (`only`: of
    that row alone); None if the row `after` names is unknown."""
    if isinstance(after, UUID):
        place = await find_record_place(conn, table, account_id, livemode, after)
        if place is None:
            return None
        after = place
    return await list_records(
        conn, table, account_id, livemode, limit=limit, after=after, backward=backward, only=only
    )


async def delete_webhook_endpoint_record(conn: asyncpg.Connection, endpoint_id: UUID) -> None:
    await conn.execute("DELETE FROM webhook_endpoint_records WHERE id = $1", endpoint_id)


async def save_customer(
    conn: asyncpg.Connection,
    customer_id: UUID,
    account_id: UUID,
    livemode: bool,
    email: str | None,
    created_at: datetime,
    record: dict[str, Any],
) -> bool:
    """Keep a new customer; False if the account already has a customer with this email."""
    status: str = await conn.execute(
        "INSERT INTO customers (id, account_id, livemode, email, created_at, record)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
        " ON CONFLICT (account_id, livemode, email) WHERE email IS NOT NULL DO NOTHING",
        customer_id,
        account_id,
        livemode,
        email,
        created_at,
        json.dumps(record),
    )
    return status.endswith(" 1")


async def find_customer_by_email(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, email: str
) -> UUID | None:
    customer_id: UUID | None = await conn.fetchval(
        "SELECT id FROM customers WHERE account_id = $1 AND livemode = $2 AND email = $3",
        account_id,
        livemode,
        email,
    )
    return customer_id


async def save_product(
    conn: asyncpg.Connection,
    product_id: UUID,
    account_id: UUID,
    livemode: bool,
    sku: str,
    created_at: datetime,
    record: dict[str, Any],
) -> None:
    """Keep a product's record as it now reads; asyncpg.UniqueViolationError if its sku is
    another product's of the same account and mode."""
    await conn.execute(
        "INSERT INTO products (id, account_id, livemode, sku, created_at, record)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
        " ON CONFLICT (id) DO UPDATE SET sku = $4, record = $6::jsonb",
        product_id,
        account_id,
        livemode,
        sku,
        created_at,
        json.dumps(record),
    )


async def find_product_by_sku(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, sku: str
) -> UUID | None:
    product_id: UUID | None = await conn.fetchval(
        "SELECT id FROM products WHERE account_id = $1 AND livemode = $2 AND sku = $3",
        account_id,
        livemode,
        sku,
    )
    return product_id


def record_page(
    rows: list[Any], limit: int, backward: bool, record: Callable[[Any], dict[str, Any]]
) -> RecordPage:
    page, has_more = newest_first(rows, limit, backward=backward)
    return RecordPage(
        records=[record(row) for row in page],
        has_more=has_more,
        next_cursor=cursor_after(page, has_more, backward=backward),
    )
