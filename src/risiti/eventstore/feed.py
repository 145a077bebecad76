"""The account's event feed: every public event, in log order, as its webhooks carry it."""

from __future__ import annotations

import json
from collections.abc import Sequence
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


@dataclass(frozen=True)
class FeedEntry:
    """A public event for its account's feed; `body` is its payload already encoded, as its
    deliveries carry it."""

    account_id: UUID
    livemode: bool
    payload: dict[str, Any]
    body: str


async def add_to_feed(conn: asyncpg.Connection, entries: Sequence[FeedEntry]) -> None:
    """Add public events to their accounts' feeds, in the order given (the order of `seq`), each
    once (the dispatcher may apply a batch again); one statement for a whole batch."""
    if not entries:
        return
    await conn.execute(
        "INSERT INTO account_events (id, account_id, livemode, type, created_at, payload)"
        " SELECT id, account_id, livemode, type, created_at, payload::json"
        " FROM unnest($1::text[], $2::uuid[], $3::boolean[], $4::text[], $5::timestamptz[],"
        " $6::text[]) WITH ORDINALITY"
        " AS e(id, account_id, livemode, type, created_at, payload, place)"
        " ORDER BY place ON CONFLICT (id) DO NOTHING",
        [entry.payload["id"] for entry in entries],
        [entry.account_id for entry in entries],
        [entry.livemode for entry in entries],
        [entry.payload["event"] for entry in entries],
        [datetime.fromisoformat(entry.payload["created_at"]) for entry in entries],
        [entry.body for entry in entries],
    )
