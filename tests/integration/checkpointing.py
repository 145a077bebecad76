"""Checkpointing in tests: the horizon is cluster-wide, so a transaction open elsewhere on the
server can keep the newest events from being checkpointed for a moment; tests wait for it."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from risiti.eventstore.checkpoints import FOLLOWER, RANGE_LIMIT, record_checkpoints

from .conftest import wait_until


async def checkpoint_through(
    pool: asyncpg.Pool, originator_id: UUID, limit: int = RANGE_LIMIT
) -> None:
    """Record checkpoints (of at most `limit` events a range) until they cover every event of
    the aggregate."""

    async def covered() -> bool:
        await record_checkpoints(pool, limit)
        return bool(
            await pool.fetchval(
                "SELECT (p.transaction_id, p.position) >= (e.transaction_id, e.position)"
                " FROM log_positions p, (SELECT transaction_id, position FROM events"
                "   WHERE originator_id = $2 ORDER BY originator_version DESC LIMIT 1) e"
                " WHERE p.follower = $1",
                FOLLOWER,
                originator_id,
            )
        )

    await wait_until(covered, timeout=30, interval=0.1)
