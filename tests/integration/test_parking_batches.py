"""How a follower's batch meets an event it cannot apply (eventstore/parked.py): the events
of other aggregates in the same batch are applied once, the failing aggregate is parked with
its later events behind it, and the position moves past them all; an error of the server or
the connection parks nothing and moves nothing."""

from __future__ import annotations

import secrets
from uuid import UUID, uuid4

import asyncpg
import pytest
from eventsourcing.persistence import StoredEvent

from risiti.eventstore.parked import retry_parked
from risiti.eventstore.recorder import RecordedEvent, append_events
from risiti.eventstore.subscription import process_next_batch

pytestmark = pytest.mark.asyncio

# Ignored by every real follower (none reads this topic), so other tests never meet them.
TOPIC = "tests.parking:Thing.Happened"


class Recorder:
    """A follower's handler that writes a row per event, and fails for the aggregates in
    `poison` (or with `error` for every event, when it is set)."""

    def __init__(self, follower: str) -> None:
        self.follower = follower
        self.poison: set[UUID] = set()
        self.error: Exception | None = None

    async def __call__(self, conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        for record in batch:
            await conn.execute(
                "INSERT INTO parking_test_applied VALUES ($1, $2, $3)",
                self.follower,
                record.originator_id,
                record.originator_version,
            )
            if self.error is not None:
                raise self.error
            if record.originator_id in self.poison:
                raise ValueError(f"cannot apply {record.originator_version}")


@pytest.fixture
async def follower(pool: asyncpg.Pool) -> str:
    """A follower of its own that starts at the end of the log as it is now."""
    name = f"test:parking:{secrets.token_hex(4)}"
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS parking_test_applied"
        " (follower text, originator_id uuid, originator_version bigint)"
    )
    await pool.execute(
        "INSERT INTO log_positions (follower, transaction_id, position)"
        " SELECT $1, transaction_id, position FROM events"
        " ORDER BY transaction_id DESC, position DESC LIMIT 1",
        name,
    )
    return name


async def _append(pool: asyncpg.Pool, events: list[tuple[UUID, int]]) -> None:
    """All in one transaction, so that the follower reads them as one batch."""
    async with pool.acquire() as conn, conn.transaction():
        for originator_id, version in events:
            stored = StoredEvent(originator_id, version, TOPIC, b"{}")
            await append_events(conn, [stored], account_id=None, livemode=False)


async def _applied(pool: asyncpg.Pool, follower: str) -> list[tuple[UUID, int]]:
    rows = await pool.fetch(
        "SELECT originator_id, originator_version FROM parking_test_applied WHERE follower = $1"
        " ORDER BY originator_id, originator_version",
        follower,
    )
    return [(row[0], row[1]) for row in rows]


async def _parked(pool: asyncpg.Pool, follower: str) -> list[tuple[UUID, int]]:
    rows = await pool.fetch(
        "SELECT originator_id, originator_version FROM parked_events WHERE follower = $1"
        " ORDER BY originator_id, originator_version",
        follower,
    )
    return [(row[0], row[1]) for row in rows]


async def _at_end_of_log(pool: asyncpg.Pool, follower: str) -> bool:
    at_end: bool = await pool.fetchval(
        "SELECT (p.transaction_id, p.position) = (SELECT transaction_id, position FROM events"
        " ORDER BY transaction_id DESC, position DESC LIMIT 1)"
        " FROM log_positions p WHERE follower = $1",
        follower,
    )
    return at_end


async def test_one_bad_event_in_a_batch_parks_its_aggregate_and_the_rest_apply_once(
    pool: asyncpg.Pool, follower: str
) -> None:
    bad, good, other = uuid4(), uuid4(), uuid4()
    handler = Recorder(follower)
    handler.poison = {bad}
    await _append(pool, [(good, 1), (bad, 1), (other, 1), (bad, 2), (good, 2)])

    applied = await process_next_batch(pool, follower, handler)

    assert applied == 5
    assert sorted(await _applied(pool, follower)) == sorted([(good, 1), (good, 2), (other, 1)])
    assert await _parked(pool, follower) == [(bad, 1), (bad, 2)]
    assert await _at_end_of_log(pool, follower)

    # Later events of the parked aggregate queue behind it, unseen by the handler.
    handler.poison = set()
    await _append(pool, [(bad, 3), (other, 2)])
    await process_next_batch(pool, follower, handler)
    assert (bad, 3) not in await _applied(pool, follower)
    assert await _parked(pool, follower) == [(bad, 1), (bad, 2), (bad, 3)]

    # After the fix, a retry applies them in order, once.
    retried = await retry_parked(pool, follower, handler)
    assert [(r.originator_id, r.events, r.error) for r in retried] == [(bad, 3, None)]
    assert [a for a in await _applied(pool, follower) if a[0] == bad] == [
        (bad, 1),
        (bad, 2),
        (bad, 3),
    ]
    assert await _parked(pool, follower) == []


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("connection reset by peer"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    ],
)
async def test_an_error_of_the_connection_or_server_parks_nothing_and_moves_nothing(
    pool: asyncpg.Pool, follower: str, error: Exception
) -> None:
    handler = Recorder(follower)
    handler.error = error
    await _append(pool, [(uuid4(), 1), (uuid4(), 1)])

    with pytest.raises(type(error)):
        await process_next_batch(pool, follower, handler)

    assert await _applied(pool, follower) == []
    assert await _parked(pool, follower) == []
    assert not await _at_end_of_log(pool, follower)
