"""Tables written beside the events, in the same transaction, so that they can never disagree
with the log: key hashes, document-number counters, hosted-page tokens, endpoint secrets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from risiti.eventstore.paging import Place, encode_cursor


class KeyOwner(NamedTuple):
    account_id: UUID
    livemode: bool
    key_id: str
    require_signed_requests: bool


async def save_api_key(
    conn: asyncpg.Connection, key_hash: bytes, key_id: str, account_id: UUID, livemode: bool
) -> None:
    await conn.execute(
        "INSERT INTO api_keys (key_hash, key_id, account_id, livemode) VALUES ($1, $2, $3, $4)",
        key_hash,
        key_id,
        account_id,
        livemode,
    )


async def find_api_key(conn: asyncpg.Connection | asyncpg.Pool, key_hash: bytes) -> KeyOwner | None:
    row = await conn.fetchrow(
        "SELECT k.account_id, k.livemode, k.key_id,"
        " coalesce(s.require_signed_requests, false) AS require_signed_requests"
        " FROM api_keys k LEFT JOIN account_settings s USING (account_id)"
        " WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        key_hash,
    )
    return KeyOwner(**row) if row else None


async def take_next_number(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, prefix: str, year: int
) -> int:
    """The next number of a series. The counter's row stays locked until the transaction ends,
    so a rolled-back finalization gives its number back and the series has no gaps."""
    number: int = await conn.fetchval(
        "INSERT INTO document_numbers (account_id, livemode, prefix, year, last_number)"
        " VALUES ($1, $2, $3, $4, 1)"
        " ON CONFLICT (account_id, livemode, prefix, year)"
        " DO UPDATE SET last_number = document_numbers.last_number + 1"
        " RETURNING last_number",
        account_id,
        livemode,
        prefix,
        year,
    )
    return number


async def save_invoice_token(conn: asyncpg.Connection, token: str, invoice_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO invoice_tokens (token, invoice_id) VALUES ($1, $2)", token, invoice_id
    )


async def find_invoice_by_token(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> UUID | None:
    invoice_id: UUID | None = await conn.fetchval(
        "SELECT invoice_id FROM invoice_tokens WHERE token = $1", token
    )
    return invoice_id


async def save_invoice_number(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, number: str, invoice_id: UUID
) -> None:
    await conn.execute(
        "INSERT INTO invoice_numbers (account_id, livemode, document_number, invoice_id)"
        " VALUES ($1, $2, $3, $4)",
        account_id,
        livemode,
        number,
        invoice_id,
    )


async def find_invoice_by_number(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, livemode: bool, number: str
) -> UUID | None:
    invoice_id: UUID | None = await conn.fetchval(
        "SELECT invoice_id FROM invoice_numbers"
        " WHERE account_id = $1 AND livemode = $2 AND document_number = $3",
        account_id,
        livemode,
        number,
    )
    return invoice_id


async def save_webhook_secret(conn: asyncpg.Connection, endpoint_id: UUID, secret: str) -> None:
    await conn.execute(
        "INSERT INTO webhook_secrets (endpoint_id, secret) VALUES ($1, $2)", endpoint_id, secret
    )


async def current_webhook_secrets(
    conn: asyncpg.Connection | asyncpg.Pool, endpoint_id: UUID
) -> list[str]:
    """The secrets to sign with now: more than one while a rotation overlaps."""
    rows = await conn.fetch(
        "SELECT secret FROM webhook_secrets WHERE endpoint_id = $1"
        " AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC",
        endpoint_id,
    )
    return [row["secret"] for row in rows]


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


async def save_tax_rate(
    conn: asyncpg.Connection,
    tax_rate_id: UUID,
    account_id: UUID,
    livemode: bool,
    created_at: datetime,
    record: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO tax_rates (id, account_id, livemode, created_at, record)"
        " VALUES ($1, $2, $3, $4, $5::jsonb)",
        tax_rate_id,
        account_id,
        livemode,
        created_at,
        json.dumps(record),
    )


@dataclass(frozen=True)
class RecordPage:
    records: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


LISTED_TABLES = frozenset({"customers", "tax_rates"})


async def list_records(
    conn: asyncpg.Connection,
    table: str,
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    after: Place | None,
) -> RecordPage:
    """A newest-first page of an account's customers or tax rates, after a cursor's place."""
    if table not in LISTED_TABLES:
        raise ValueError(f"{table} is not a listed table")
    rows = await conn.fetch(
        f"SELECT record::text, created_at, id FROM {table}"
        " WHERE account_id = $1 AND livemode = $2"
        " AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))"
        " ORDER BY created_at DESC, id DESC LIMIT $5",
        account_id,
        livemode,
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    page = rows[:limit]
    last = page[-1] if page else None
    has_more = len(rows) > limit
    return RecordPage(
        records=[json.loads(row["record"]) for row in page],
        has_more=has_more,
        next_cursor=encode_cursor(last["created_at"], last["id"]) if has_more and last else None,
    )


async def find_record_place(
    conn: asyncpg.Connection, table: str, account_id: UUID, livemode: bool, row_id: UUID
) -> Place | None:
    """The place of a customer or tax rate in its list, for `starting_after=<id>`."""
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
) -> RecordPage | None:
    """A page after a cursor's place or after the row with an id; None if that row is unknown."""
    if isinstance(after, UUID):
        place = await find_record_place(conn, table, account_id, livemode, after)
        if place is None:
            return None
        after = place
    return await list_records(conn, table, account_id, livemode, limit=limit, after=after)


async def set_signed_requests(conn: asyncpg.Connection, account_id: UUID, required: bool) -> None:
    await conn.execute(
        "INSERT INTO account_settings (account_id, require_signed_requests) VALUES ($1, $2)"
        " ON CONFLICT (account_id) DO UPDATE SET require_signed_requests = $2",
        account_id,
        required,
    )
