"""Stored first responses of Idempotency-Keys (DESIGN.md §6), kept 24 hours.

The row is written in the same transaction as the events the request appended, so a crash can
never leave the events without the key (a retry would repeat them) or the key without them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

import asyncpg

RETENTION = "24 hours"


@dataclass(frozen=True)
class IdempotencyKey:
    account_id: UUID
    livemode: bool
    key: str
    fingerprint: bytes


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: bytes
    status: int
    headers: dict[str, str]
    body: bytes


async def try_lock(conn: asyncpg.Connection, key: IdempotencyKey) -> bool:
    """Hold the key for this transaction; False while another request holds it."""
    locked: bool = await conn.fetchval(
        "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))",
        f"idempotency:{key.account_id}:{key.livemode}:{key.key}",
    )
    return locked


async def find_response(conn: asyncpg.Connection, key: IdempotencyKey) -> StoredResponse | None:
    row = await conn.fetchrow(
        "SELECT fingerprint, status, headers::text, body FROM idempotency_keys"
        " WHERE account_id = $1 AND livemode = $2 AND key = $3"
        f" AND created_at > now() - interval '{RETENTION}'",
        key.account_id,
        key.livemode,
        key.key,
    )
    if row is None:
        return None
    headers = json.loads(row["headers"])
    return StoredResponse(row["fingerprint"], row["status"], headers, row["body"])


async def save_response(
    conn: asyncpg.Connection,
    key: IdempotencyKey,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Store the first response; an expired row of the same key is replaced."""
    await conn.execute(
        "INSERT INTO idempotency_keys (account_id, livemode, key, fingerprint, status, headers,"
        " body) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)"
        " ON CONFLICT (account_id, livemode, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
        " status = EXCLUDED.status, headers = EXCLUDED.headers, body = EXCLUDED.body,"
        " created_at = now()",
        key.account_id,
        key.livemode,
        key.key,
        key.fingerprint,
        status,
        json.dumps(headers),
        body,
    )


async def purge_expired(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """Forget keys older than the retention; returns how many."""
    status: str = await conn.execute(
        f"DELETE FROM idempotency_keys WHERE created_at < now() - interval '{RETENTION}'"
    )
    return int(status.split()[-1])
