"""An account's rows beside the log: its API keys' hashes and its settings (`account_settings`),
which the edge and the jobs read without loading the account's events.

Secrets (a key's hash, a Paystack secret key) are kept here and never in an event; the settings
that events do carry are copied here from them by the unit of work (`commands/side_tables.py`).
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

import asyncpg


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


async def set_signed_requests(conn: asyncpg.Connection, account_id: UUID, required: bool) -> None:
    await conn.execute(
        "INSERT INTO account_settings (account_id, require_signed_requests) VALUES ($1, $2)"
        " ON CONFLICT (account_id) DO UPDATE SET require_signed_requests = $2",
        account_id,
        required,
    )


async def set_paystack_secret_key(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, secret_key: str | None
) -> None:
    """Keep (or, with None, forget) the account's Paystack secret key of one mode."""
    column = "paystack_secret_key_live" if livemode else "paystack_secret_key_test"
    await conn.execute(
        f"INSERT INTO account_settings (account_id, {column}) VALUES ($1, $2)"
        f" ON CONFLICT (account_id) DO UPDATE SET {column} = $2",
        account_id,
        secret_key,
    )


async def find_paystack_secret_key(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, livemode: bool
) -> str | None:
    column = "paystack_secret_key_live" if livemode else "paystack_secret_key_test"
    secret_key: str | None = await conn.fetchval(
        f"SELECT {column} FROM account_settings WHERE account_id = $1",
        account_id,
    )
    return secret_key


async def set_reminder_days(
    conn: asyncpg.Connection, account_id: UUID, reminder_days: list[int]
) -> None:
    """Keep the account's reminder schedule where the reminders job reads it."""
    await conn.execute(
        "INSERT INTO account_settings (account_id, reminder_days) VALUES ($1, $2)"
        " ON CONFLICT (account_id) DO UPDATE SET reminder_days = $2",
        account_id,
        reminder_days,
    )


async def set_negative_stock_allowed(
    conn: asyncpg.Connection, account_id: UUID, allowed: bool
) -> None:
    await conn.execute(
        "INSERT INTO account_settings (account_id, allow_negative_stock) VALUES ($1, $2)"
        " ON CONFLICT (account_id) DO UPDATE SET allow_negative_stock = $2",
        account_id,
        allowed,
    )


async def negative_stock_allowed(conn: asyncpg.Connection, account_id: UUID) -> bool:
    allowed: bool | None = await conn.fetchval(
        "SELECT allow_negative_stock FROM account_settings WHERE account_id = $1", account_id
    )
    return bool(allowed)
