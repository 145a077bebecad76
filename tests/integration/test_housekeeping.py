"""Scheduled housekeeping jobs, run as the worker runs them."""

from __future__ import annotations

from uuid import uuid4

import asyncpg

from risiti.workers.housekeeping import forget_expired_idempotency_keys


async def _store_key(pool: asyncpg.Pool, key: str, age: str) -> None:
    await pool.execute(
        "INSERT INTO idempotency_keys (account_id, livemode, key, fingerprint, status, headers,"
        " body, created_at) VALUES ($1, false, $2, '\\x00', 201, '{}', '\\x00',"
        f" now() - interval '{age}')",
        uuid4(),
        key,
    )


async def test_idempotency_keys_older_than_a_day_are_forgotten_and_newer_kept(
    pool: asyncpg.Pool,
) -> None:
    old, recent = f"old-{uuid4()}", f"recent-{uuid4()}"
    await _store_key(pool, old, "25 hours")
    await _store_key(pool, recent, "23 hours")

    forgotten = await forget_expired_idempotency_keys({"pool": pool})

    keys = {row["key"] for row in await pool.fetch("SELECT key FROM idempotency_keys")}
    assert forgotten >= 1
    assert old not in keys
    assert recent in keys
