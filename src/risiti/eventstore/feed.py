"""The account's event feed: every public event, in log order, as its webhooks carry it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class FeedPage:
    payloads: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


async def read_feed(
    conn: asyncpg.Connection | asyncpg.Pool,
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    after: int | None,
    event_type: str | None,
) -> FeedPage:
    """The account's events after a cursor (oldest first), optionally of one type."""
    rows = await conn.fetch(
        "SELECT seq, payload::text FROM account_events WHERE account_id = $1 AND livemode = $2"
        " AND ($3::text IS NULL OR type = $3) AND seq > $4 ORDER BY seq LIMIT $5",
        account_id,
        livemode,
        event_type,
        after or 0,
        limit + 1,
    )
    page = rows[:limit]
    has_more = len(rows) > limit
    return FeedPage(
        payloads=[_decoded(row["payload"]) for row in page],
        has_more=has_more,
        next_cursor=str(page[-1]["seq"]) if has_more and page else None,
    )


def _decoded(payload: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(payload)
    return decoded


async def add_to_feed(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, payload: dict[str, Any], body: str
) -> None:
    """Add a public event to its account's feed, once (the dispatcher may apply a batch again);
    `body` is the payload already encoded, as its deliveries carry it."""
    await conn.execute(
        "INSERT INTO account_events (id, account_id, livemode, type, created_at, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6::json) ON CONFLICT (id) DO NOTHING",
        payload["id"],
        account_id,
        livemode,
        payload["event"],
        datetime.fromisoformat(payload["created_at"]),
        body,
    )
