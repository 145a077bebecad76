"""Checkpoints of the log (docs/auditing.md): for each new range of the log below the xid
horizon, one root hash per account whose events it holds, chained to that account's previous
checkpoint (the rule is in `hashchain`).

Ranges follow one another in (transaction_id, position) order, the order every follower reads
in, so each event is covered by exactly one checkpoint once it is older than every running
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from risiti.eventstore.hashchain import GENESIS, NO_ACCOUNT, CheckpointRoot
from risiti.eventstore.recorder import LOG_START, LogPosition

FOLLOWER = "audit:checkpoints"
# At most this many events per checkpoint range, so that one transaction stays short on a big
# backlog; the job takes the next range at once.
RANGE_LIMIT = 50_000
# Any fixed number: it only has to be the same for every process that checkpoints.
_CHECKPOINT_LOCK = 7_261_842


@dataclass(frozen=True)
class Checkpoint:
    """One account's root hash over one range of the log."""

    id: int
    account_id: UUID
    sequence: int
    after: LogPosition
    up_to: LogPosition
    event_count: int
    previous_root: bytes
    root: bytes
    created_at: datetime


@dataclass
class _Head:
    originator_id: UUID
    originator_version: int
    transaction_id: int
    position: int
    hash: bytes


_CHECKPOINT_COLUMNS = (
    "id, account_id, sequence, after_transaction_id, after_position, up_to_transaction_id,"
    " up_to_position, event_count, previous_root, root, created_at"
)


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(
        id=row["id"],
        account_id=row["account_id"],
        sequence=row["sequence"],
        after=LogPosition(row["after_transaction_id"], row["after_position"]),
        up_to=LogPosition(row["up_to_transaction_id"], row["up_to_position"]),
        event_count=row["event_count"],
        previous_root=row["previous_root"],
        root=row["root"],
        created_at=row["created_at"],
    )


async def record_checkpoints(pool: asyncpg.Pool, limit: int = RANGE_LIMIT) -> list[Checkpoint]:
    """Checkpoint everything below the horizon not checkpointed yet, one range of at most
    `limit` events a transaction; returns the checkpoints made. Runs that overlap wait for each
    other. It stops after a range that was not full, so that a steady stream of new events
    makes one range a run, not one per event."""
    made: list[Checkpoint] = []
    async with pool.acquire() as conn:
        while True:
            async with conn.transaction():
                batch, full = await _checkpoint_next_range(conn, limit)
            made += batch
            if not full:
                return made


async def _checkpoint_next_range(
    conn: asyncpg.Connection, limit: int
) -> tuple[list[Checkpoint], bool]:
    """The checkpoints of the next range, and whether it held `limit` events (more may wait)."""
    # An advisory lock, not a row lock, makes overlapping runs wait: it takes no transaction
    # id, so the reading below holds back nobody's horizon; only the final writes take one.
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _CHECKPOINT_LOCK)
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM log_positions WHERE follower = $1", FOLLOWER
    )
    after = LogPosition(row["transaction_id"], row["position"]) if row else LOG_START
    events = await conn.fetch(
        "SELECT transaction_id, position, originator_id, originator_version, account_id, hash"
        " FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint)"
        " AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
        " ORDER BY transaction_id, position LIMIT $3",
        after.transaction_id,
        after.position,
        limit,
    )
    if not events:
        return [], False
    up_to = LogPosition(events[-1]["transaction_id"], events[-1]["position"])
    by_account: dict[UUID, list[Any]] = {}
    for event in events:
        by_account.setdefault(event["account_id"] or NO_ACCOUNT, []).append(event)
    latest = await _latest_checkpoints(conn, list(by_account))
    made = []
    for account_id, account_events in by_account.items():
        previous = latest.get(account_id)
        made.append(await _insert(conn, account_id, previous, after, up_to, account_events))
    await conn.execute(
        "INSERT INTO log_positions (follower, transaction_id, position) VALUES ($1, $2, $3)"
        " ON CONFLICT (follower) DO UPDATE"
        " SET transaction_id = excluded.transaction_id, position = excluded.position",
        FOLLOWER,
        up_to.transaction_id,
        up_to.position,
    )
    return made, len(events) == limit


async def _latest_checkpoints(
    conn: asyncpg.Connection, account_ids: list[UUID]
) -> dict[UUID, Checkpoint]:
    rows = await conn.fetch(
        f"SELECT DISTINCT ON (account_id) {_CHECKPOINT_COLUMNS} FROM audit_checkpoints"
        " WHERE account_id = ANY($1::uuid[]) ORDER BY account_id, sequence DESC",
        account_ids,
    )
    return {row["account_id"]: _checkpoint(row) for row in rows}


async def _insert(
    conn: asyncpg.Connection,
    account_id: UUID,
    previous: Checkpoint | None,
    after: LogPosition,
    up_to: LogPosition,
    events: list[Any],
) -> Checkpoint:
    previous_root = previous.root if previous else GENESIS
    digest = CheckpointRoot(previous_root, account_id, after, up_to)
    heads: dict[UUID, _Head] = {}
    for e in events:
        digest.add(e["transaction_id"], e["position"], e["hash"])
        head = heads.get(e["originator_id"])
        if head is None or head.originator_version < e["originator_version"]:
            heads[e["originator_id"]] = _Head(
                e["originator_id"],
                e["originator_version"],
                e["transaction_id"],
                e["position"],
                e["hash"],
            )
    row = await conn.fetchrow(
        "INSERT INTO audit_checkpoints (account_id, sequence, after_transaction_id,"
        " after_position, up_to_transaction_id, up_to_position, event_count, previous_root, root)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_CHECKPOINT_COLUMNS}",
        account_id,
        previous.sequence + 1 if previous else 1,
        after.transaction_id,
        after.position,
        up_to.transaction_id,
        up_to.position,
        digest.event_count,
        previous_root,
        digest.root(),
    )
    checkpoint = _checkpoint(row)
    await conn.execute(
        "INSERT INTO audit_checkpoint_heads (checkpoint_id, originator_id, originator_version,"
        " transaction_id, position, hash) SELECT $1, * FROM unnest($2::uuid[], $3::bigint[],"
        " $4::xid8[], $5::bigint[], $6::bytea[])",
        checkpoint.id,
        [h.originator_id for h in heads.values()],
        [h.originator_version for h in heads.values()],
        [h.transaction_id for h in heads.values()],
        [h.position for h in heads.values()],
        [h.hash for h in heads.values()],
    )
    return checkpoint


async def read_checkpoints(
    conn: asyncpg.Connection | asyncpg.Pool,
    account_id: UUID | None = None,
    *,
    after_sequence: int = 0,
    limit: int | None = None,
) -> list[Checkpoint]:
    """Checkpoints in log order (of one account, from a sequence number on, if given)."""
    rows = await conn.fetch(
        f"SELECT {_CHECKPOINT_COLUMNS} FROM audit_checkpoints"
        " WHERE ($1::uuid IS NULL OR account_id = $1) AND sequence > $2"
        " ORDER BY up_to_transaction_id, up_to_position, account_id LIMIT $3",
        account_id,
        after_sequence,
        limit,
    )
    return [_checkpoint(row) for row in rows]


@dataclass(frozen=True)
class Head:
    """The last event of one aggregate that a checkpoint covered, as it recorded it."""

    originator_id: UUID
    originator_version: int
    log_position: LogPosition
    hash: bytes


async def read_heads(conn: asyncpg.Connection, checkpoint_id: int) -> list[Head]:
    rows = await conn.fetch(
        "SELECT originator_id, originator_version, transaction_id, position, hash"
        " FROM audit_checkpoint_heads WHERE checkpoint_id = $1 ORDER BY position",
        checkpoint_id,
    )
    return [
        Head(
            r["originator_id"],
            r["originator_version"],
            LogPosition(r["transaction_id"], r["position"]),
            r["hash"],
        )
        for r in rows
    ]
