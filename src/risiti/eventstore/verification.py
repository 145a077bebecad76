"""Recomputing every hash of the log (`risiti verify`, docs/auditing.md).

One pass over the events in log order, (transaction_id, position), each read with the stored
hash of its aggregate's event before it:
- each event's hash is recomputed from that previous hash and its own fields: an altered
  event, or one moved to another version, no longer matches;
- an event whose aggregate has no event at the version before it follows a deleted event;
- each checkpoint's root is recomputed from the events of its account in its range: a deleted
  whole aggregate, an event moved in the log or one deleted at the end of a chain changes it.
  The checkpoint's recorded heads then say which aggregate was lost, moved or altered.
All in one read-only, repeatable-read transaction: one consistent snapshot of the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from risiti.eventstore.checkpoints import Checkpoint, read_checkpoints, read_heads
from risiti.eventstore.hashchain import GENESIS, NO_ACCOUNT, CheckpointRoot, chain_hash
from risiti.eventstore.recorder import LOG_START, LogPosition

BATCH = 10_000
Progress = Callable[[int, int], None]

# Each event with the stored hash of its aggregate's event before it (null if there is none).
EVENT_ROWS = """
SELECT e.transaction_id, e.position, e.originator_id, e.originator_version, e.topic, e.state,
       e.account_id, e.hash, p.hash AS previous_hash
FROM events e
LEFT JOIN events p ON p.originator_id = e.originator_id
                  AND p.originator_version = e.originator_version - 1
WHERE (e.transaction_id, e.position) > ($1::xid8, $2::bigint)
  AND ($3::uuid IS NULL OR e.account_id = $3)
ORDER BY e.transaction_id, e.position
LIMIT $4
"""


@dataclass(frozen=True)
class Problem:
    """One thing found wrong, named by aggregate and position where the log allows."""

    kind: str
    """altered | deleted | reordered | inserted | deleted_aggregate | checkpoint"""
    message: str
    originator_id: UUID | None = None
    position: int | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class Verification:
    """What `verify_log` checked and found."""

    events: int = 0
    aggregates: int = 0
    checkpoints: int = 0
    unchecked_tail: int = 0
    """Events after the last checkpoint: proven by their chains only so far."""
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass
class _Range:
    """One checkpoint run's range, with the checkpoints of the accounts it covered."""

    after: LogPosition
    up_to: LogPosition
    checkpoints: dict[UUID, Checkpoint]
    roots: dict[UUID, CheckpointRoot] = field(default_factory=dict)
    aggregates: dict[UUID, set[UUID]] = field(default_factory=dict)


async def missing_log(conn: asyncpg.Connection, account_id: UUID | None = None) -> str | None:
    """Why the database of `conn` holds no Risiti log (of `account_id`, if given), or None when
    it does: the auditors' commands refuse to report on a log that is not there."""
    if await conn.fetchval("SELECT to_regclass('events') IS NULL"):
        return "it has no events table (not a Risiti database, or never migrated)"
    if account_id is None:
        has_events = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events)")
        return None if has_events else "its log has no events"
    has_events = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM events WHERE account_id = $1)", account_id
    )
    return None if has_events else f"its log has no events of account {account_id}"


async def verify_log(
    conn: asyncpg.Connection,
    *,
    account_id: UUID | None = None,
    since: int | None = None,
    progress: Progress | None = None,
) -> Verification:
    """Recompute every chain and checkpoint (of one account, from a position on, if given)."""
    result = Verification()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        checkpoints = await read_checkpoints(conn, account_id)
        result.problems += _broken_checkpoint_links(checkpoints)
        ranges = _ranges(checkpoints)
        start = await _start(conn, ranges, since)
        ranges = [r for r in ranges if r.after >= start]
        total = await _count(conn, start, account_id)
        await _check_events(conn, result, ranges, start, account_id, total, progress)
        for done in ranges:
            result.problems += await _broken_roots(conn, done)
    result.checkpoints = sum(len(r.checkpoints) for r in ranges)
    return result


async def _check_events(
    conn: asyncpg.Connection,
    result: Verification,
    ranges: list[_Range],
    start: LogPosition,
    account_id: UUID | None,
    total: int,
    progress: Progress | None,
) -> None:
    seen: set[UUID] = set()
    after, index = start, 0
    while rows := await conn.fetch(
        EVENT_ROWS, after.transaction_id, after.position, account_id, BATCH
    ):
        for row in rows:
            place = LogPosition(row["transaction_id"], row["position"])
            while index < len(ranges) and place > ranges[index].up_to:
                index += 1
            if index == len(ranges):
                result.unchecked_tail += 1
            elif place > ranges[index].after:
                _cover(ranges[index], row, place)
            else:
                result.problems.append(_uncovered(row))
            problem = _broken_link(row)
            if problem is not None:
                result.problems.append(problem)
            seen.add(row["originator_id"])
        result.events += len(rows)
        after = LogPosition(rows[-1]["transaction_id"], rows[-1]["position"])
        if progress is not None:
            progress(result.events, max(total, result.events))
    result.aggregates = len(seen)


def _broken_link(row: Any) -> Problem | None:
    """What is wrong with one event's link to the event before it, if anything."""
    version, originator_id = row["originator_version"], row["originator_id"]
    where = f"aggregate {originator_id} version {version} at position {row['position']}"
    if version == 1:
        previous = GENESIS
    elif row["previous_hash"] is None:
        return Problem(
            "deleted",
            f"{where}: version {version - 1} before it is missing (deleted event)",
            originator_id,
            row["position"],
        )
    else:
        previous = row["previous_hash"]
    expected = chain_hash(previous, originator_id, version, row["topic"], row["state"])
    if expected != row["hash"]:
        return Problem(
            "altered",
            f"{where}: its hash does not match its contents (altered or moved event)",
            originator_id,
            row["position"],
        )
    return None


def _uncovered(row: Any) -> Problem:
    return Problem(
        "inserted",
        f"aggregate {row['originator_id']} version {row['originator_version']} at position "
        f"{row['position']}: no checkpoint of its account covers it, though later ones do "
        "(inserted event, or a checkpoint deleted)",
        row["originator_id"],
        row["position"],
    )


def _cover(found: _Range, row: Any, place: LogPosition) -> None:
    account = row["account_id"] or NO_ACCOUNT
    root = found.roots.get(account)
    if root is None:
        checkpoint = found.checkpoints.get(account)
        previous = checkpoint.previous_root if checkpoint else GENESIS
        root = found.roots[account] = CheckpointRoot(previous, account, found.after, found.up_to)
    root.add(place.transaction_id, place.position, row["hash"])
    found.aggregates.setdefault(account, set()).add(row["originator_id"])


def _ranges(checkpoints: list[Checkpoint]) -> list[_Range]:
    ranges: dict[tuple[LogPosition, LogPosition], _Range] = {}
    for checkpoint in checkpoints:
        key = (checkpoint.after, checkpoint.up_to)
        found = ranges.setdefault(key, _Range(checkpoint.after, checkpoint.up_to, {}))
        found.checkpoints[checkpoint.account_id] = checkpoint
    return sorted(ranges.values(), key=lambda r: r.up_to)


def _broken_checkpoint_links(checkpoints: list[Checkpoint]) -> list[Problem]:
    """Each account's checkpoints numbered 1, 2, … and each chained to the one before."""
    problems = []
    last: dict[UUID, Checkpoint] = {}
    for checkpoint in sorted(checkpoints, key=lambda c: (c.account_id, c.sequence)):
        before = last.get(checkpoint.account_id)
        expected_sequence = before.sequence + 1 if before else 1
        expected_root = before.root if before else GENESIS
        if checkpoint.sequence != expected_sequence or checkpoint.previous_root != expected_root:
            problems.append(
                Problem(
                    "checkpoint",
                    f"checkpoint {checkpoint.sequence} of account {checkpoint.account_id} does "
                    f"not follow checkpoint {expected_sequence - 1}: a checkpoint was deleted "
                    "or altered",
                )
            )
        last[checkpoint.account_id] = checkpoint
    return problems


async def _broken_roots(conn: asyncpg.Connection, done: _Range) -> list[Problem]:
    problems = []
    for account, checkpoint in done.checkpoints.items():
        root = done.roots.get(account)
        recomputed = root.root() if root else _empty_root(checkpoint)
        if recomputed != checkpoint.root:
            problems += await _diagnose(conn, checkpoint, done.aggregates.get(account, set()))
    for account in set(done.roots) - set(done.checkpoints):
        problems.append(
            Problem(
                "inserted",
                f"account {account} has events between positions {done.after.position} and "
                f"{done.up_to.position} that no checkpoint covered (inserted events)",
            )
        )
    return problems


def _empty_root(checkpoint: Checkpoint) -> bytes:
    return CheckpointRoot(
        checkpoint.previous_root, checkpoint.account_id, checkpoint.after, checkpoint.up_to
    ).root()


async def _diagnose(
    conn: asyncpg.Connection, checkpoint: Checkpoint, present: set[UUID]
) -> list[Problem]:
    """Why a checkpoint's root differs, from the heads it recorded against the log now."""
    heads = await read_heads(conn, checkpoint.id)
    rows = await conn.fetch(
        "SELECT h.originator_id, e.hash, e.transaction_id, e.position,"
        " EXISTS (SELECT 1 FROM events a WHERE a.originator_id = h.originator_id) AS exists"
        " FROM unnest($1::uuid[], $2::bigint[]) AS h(originator_id, version)"
        " LEFT JOIN events e ON e.originator_id = h.originator_id"
        " AND e.originator_version = h.version",
        [h.originator_id for h in heads],
        [h.originator_version for h in heads],
    )
    now = {row["originator_id"]: row for row in rows}
    label = f"checkpoint {checkpoint.sequence} of account {checkpoint.account_id}"
    problems = [p for head in heads if (p := _head_problem(head, now[head.originator_id], label))]
    recorded = {head.originator_id for head in heads}
    for originator_id in sorted(present - recorded, key=str):
        problems.append(
            Problem(
                "inserted",
                f"aggregate {originator_id}: has events in the range of {label} that it did "
                "not record (inserted events)",
                originator_id,
            )
        )
    if not problems:
        problems.append(
            Problem(
                "reordered",
                f"{label}: its root does not match the events between positions "
                f"{checkpoint.after.position} and {checkpoint.up_to.position} (events moved, "
                "deleted or inserted within the range)",
            )
        )
    return problems


def _head_problem(head: Any, now: Any, label: str) -> Problem | None:
    where = (
        f"aggregate {head.originator_id} version {head.originator_version} at position "
        f"{head.log_position.position}"
    )
    if not now["exists"]:
        kind, what = "deleted_aggregate", "every event of the aggregate is gone (deleted aggregate)"
    elif now["hash"] is None:
        kind, what = "deleted", "the event is missing (deleted event)"
    elif now["hash"] != head.hash:
        kind, what = "altered", "its hash differs from the one recorded (altered event)"
    elif LogPosition(now["transaction_id"], now["position"]) != head.log_position:
        kind, what = "reordered", f"it now stands at position {now['position']} (moved event)"
    else:
        return None
    return Problem(
        kind,
        f"{where}, recorded by {label}: {what}",
        head.originator_id,
        head.log_position.position,
    )


async def _start(conn: asyncpg.Connection, ranges: list[_Range], since: int | None) -> LogPosition:
    """Where to start: the start of the checkpoint range holding position `since`, so that
    every checkpoint read is whole; the start of the log without `since`."""
    if since is None:
        return LOG_START
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM events WHERE position >= $1"
        " ORDER BY position LIMIT 1",
        since,
    )
    if row is None:
        return LogPosition(2**63 - 1, 2**63 - 1)
    place = LogPosition(row["transaction_id"], row["position"])
    for found in ranges:
        if found.after < place <= found.up_to:
            return found.after
    return LogPosition(place.transaction_id, place.position - 1)


async def _count(conn: asyncpg.Connection, start: LogPosition, account_id: UUID | None) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint)"
        " AND ($3::uuid IS NULL OR account_id = $3)",
        start.transaction_id,
        start.position,
        account_id,
    )
    return count
