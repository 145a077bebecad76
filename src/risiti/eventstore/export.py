"""An account's event log with its hashes, for auditors (`risiti export`, docs/auditing.md).

JSON Lines: one header line, then the events in log order, then the checkpoints whose every
event the export holds. CSV: the events only, one row each, with the same fields. Either way
each event carries `previous_hash`, the stored hash of its aggregate's event before it, so an
export that starts in the middle of a chain can still be checked from there on.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, TextIO
from uuid import UUID

import asyncpg

from risiti.eventstore.checkpoints import Checkpoint, read_checkpoints
from risiti.eventstore.recorder import LOG_START, LogPosition

FORMAT = "risiti-audit-export/1"
EVENT_FIELDS = (
    "position",
    "transaction_id",
    "originator_id",
    "originator_version",
    "topic",
    "state",
    "hash",
    "previous_hash",
    "account_id",
    "livemode",
    "recorded_at",
    "actor",
)
BATCH = 5_000

_EVENTS = """
SELECT e.position, e.transaction_id, e.originator_id, e.originator_version, e.topic, e.state,
       e.hash, p.hash AS previous_hash, e.account_id, e.livemode, e.recorded_at, e.actor
FROM events e
LEFT JOIN events p ON p.originator_id = e.originator_id
                  AND p.originator_version = e.originator_version - 1
WHERE e.account_id = $1 AND (e.transaction_id, e.position) > ($2::xid8, $3::bigint)
  AND ($4::timestamptz IS NULL OR e.recorded_at >= $4)
  AND ($5::timestamptz IS NULL OR e.recorded_at < $5)
ORDER BY e.transaction_id, e.position
LIMIT $6
"""


async def export_log(
    conn: asyncpg.Connection,
    out: TextIO,
    *,
    account_id: UUID,
    output_format: str,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the account's events recorded in [since, until) to `out`; returns how many."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        total: int = await conn.fetchval(
            "SELECT count(*) FROM events WHERE account_id = $1"
            " AND ($2::timestamptz IS NULL OR recorded_at >= $2)"
            " AND ($3::timestamptz IS NULL OR recorded_at < $3)",
            account_id,
            since,
            until,
        )
        if output_format == "csv":
            return await _csv(conn, out, account_id, since, until, total, progress)
        header = {
            "kind": "export",
            "format": FORMAT,
            "account_id": str(account_id),
            "from": since.isoformat() if since else None,
            "to": until.isoformat() if until else None,
        }
        out.write(json.dumps(header) + "\n")
        written = 0
        async for event in _events(conn, account_id, since, until):
            out.write(json.dumps({"kind": "event", **event}) + "\n")
            written += 1
            if progress is not None:
                progress(written, total)
        for checkpoint in await _whole_checkpoints(conn, account_id, since, until):
            out.write(json.dumps({"kind": "checkpoint", **checkpoint_fields(checkpoint)}) + "\n")
        return written


async def _csv(
    conn: asyncpg.Connection,
    out: TextIO,
    account_id: UUID,
    since: datetime | None,
    until: datetime | None,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> int:
    writer = csv.DictWriter(out, fieldnames=EVENT_FIELDS)
    writer.writeheader()
    written = 0
    async for event in _events(conn, account_id, since, until):
        writer.writerow(event)
        written += 1
        if progress is not None:
            progress(written, total)
    return written


async def _events(
    conn: asyncpg.Connection, account_id: UUID, since: datetime | None, until: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    after = LOG_START
    while rows := await conn.fetch(
        _EVENTS, account_id, after.transaction_id, after.position, since, until, BATCH
    ):
        for row in rows:
            yield _event_fields(row)
        after = LogPosition(rows[-1]["transaction_id"], rows[-1]["position"])


def _event_fields(row: Any) -> dict[str, Any]:
    previous = row["previous_hash"]
    return {
        "position": row["position"],
        "transaction_id": row["transaction_id"],
        "originator_id": str(row["originator_id"]),
        "originator_version": row["originator_version"],
        "topic": row["topic"],
        "state": base64.b64encode(row["state"]).decode(),
        "hash": row["hash"].hex(),
        "previous_hash": previous.hex() if previous is not None else None,
        "account_id": str(row["account_id"]),
        "livemode": row["livemode"],
        "recorded_at": row["recorded_at"].isoformat(),
        "actor": row["actor"],
    }


async def _whole_checkpoints(
    conn: asyncpg.Connection, account_id: UUID, since: datetime | None, until: datetime | None
) -> list[Checkpoint]:
    """The account's checkpoints none of whose events lies outside [since, until)."""
    checkpoints = await read_checkpoints(conn, account_id)
    if since is None and until is None:
        return checkpoints
    outside = await conn.fetch(
        "SELECT DISTINCT c.id FROM audit_checkpoints c JOIN events e"
        " ON e.account_id = c.account_id"
        " AND (e.transaction_id, e.position) > (c.after_transaction_id, c.after_position)"
        " AND (e.transaction_id, e.position) <= (c.up_to_transaction_id, c.up_to_position)"
        " WHERE c.account_id = $1 AND (($2::timestamptz IS NOT NULL AND e.recorded_at < $2)"
        " OR ($3::timestamptz IS NOT NULL AND e.recorded_at >= $3))",
        account_id,
        since,
        until,
    )
    excluded = {row["id"] for row in outside}
    return [c for c in checkpoints if c.id not in excluded]


def checkpoint_fields(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as exports and the API show it: hashes in hex, log places as integers."""
    return {
        "account_id": str(checkpoint.account_id),
        "sequence": checkpoint.sequence,
        "after_transaction_id": checkpoint.after.transaction_id,
        "after_position": checkpoint.after.position,
        "up_to_transaction_id": checkpoint.up_to.transaction_id,
        "up_to_position": checkpoint.up_to.position,
        "event_count": checkpoint.event_count,
        "previous_root": checkpoint.previous_root.hex(),
        "root": checkpoint.root.hex(),
        "created_at": checkpoint.created_at.isoformat(),
    }
