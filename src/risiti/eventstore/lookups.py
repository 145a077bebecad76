"""Tables written beside the events, in the same transaction, so that they can never disagree
with the log: key hashes, document-number counters, hosted-page tokens, endpoint secrets."""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

import asyncpg


class KeyOwner(NamedTuple):
    account_id: UUID
    livemode: bool
    key_id: str


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
        "SELECT account_id, livemode, key_id FROM api_keys"
        " WHERE key_hash = $1 AND revoked_at IS NULL",
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
