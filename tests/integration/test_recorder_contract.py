"""The contract of Risiti's event recorder: append, conflict, read back, ordered catch-up, and
within one aggregate, log order = version order (DESIGN.md §3)."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import asyncpg
import pytest
from eventsourcing.persistence import StoredEvent

from risiti.eventstore.errors import AppendOutOfOrderError, VersionConflictError
from risiti.eventstore.hashchain import GENESIS, chain_hash
from risiti.eventstore.recorder import (
    LOG_START,
    LogPosition,
    append_events,
    read_aggregate,
    read_log,
)

from .conftest import wait_until

pytestmark = pytest.mark.asyncio


def _event(originator_id: UUID, version: int, state: bytes = b"{}") -> StoredEvent:
    return StoredEvent(originator_id, version, "tests:Thing.Happened", state)


async def _append(pool: asyncpg.Pool, *events: StoredEvent) -> list[int]:
    async with pool.acquire() as conn, conn.transaction():
        return await append_events(conn, list(events), account_id=None, livemode=False)


async def test_appended_events_read_back_in_version_order(pool: asyncpg.Pool) -> None:
    thing = uuid4()
    await _append(pool, _event(thing, 1, b'{"a":1}'), _event(thing, 2, b'{"a":2}'))
    await _append(pool, _event(thing, 3, b'{"a":3}'))

    async with pool.acquire() as conn:
        records = await read_aggregate(conn, thing)
        first_two = await read_aggregate(conn, thing, up_to_version=2)

    assert [(r.originator_version, r.state) for r in records] == [
        (1, b'{"a":1}'),
        (2, b'{"a":2}'),
        (3, b'{"a":3}'),
    ]
    assert len(first_two) == 2


async def test_appending_a_taken_version_conflicts_and_appends_nothing(pool: asyncpg.Pool) -> None:
    thing = uuid4()
    await _append(pool, _event(thing, 1))

    with pytest.raises(VersionConflictError):
        await _append(pool, _event(thing, 2), _event(thing, 1))

    async with pool.acquire() as conn:
        assert len(await read_aggregate(conn, thing)) == 1


async def test_concurrent_writers_of_one_version_only_one_wins(pool: asyncpg.Pool) -> None:
    thing = uuid4()
    results = await asyncio.gather(
        *(_append(pool, _event(thing, 1)) for _ in range(10)), return_exceptions=True
    )

    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, VersionConflictError) for r in results if isinstance(r, Exception))


async def test_each_hash_chains_to_the_previous_event_of_its_aggregate(pool: asyncpg.Pool) -> None:
    thing = uuid4()
    await _append(pool, _event(thing, 1, b"one"))
    await _append(pool, _event(thing, 2, b"two"))

    async with pool.acquire() as conn:
        first, second = await read_aggregate(conn, thing)

    assert first.hash == chain_hash(GENESIS, thing, 1, first.topic, b"one")
    assert second.hash == chain_hash(first.hash, thing, 2, second.topic, b"two")


async def _log_after(pool: asyncpg.Pool, after: LogPosition) -> list[UUID]:
    async with pool.acquire() as conn:
        return [r.originator_id for r in await read_log(conn, after, 10_000)]


async def _head(pool: asyncpg.Pool) -> LogPosition:
    async with pool.acquire() as conn:
        records = await read_log(conn, LOG_START, 1_000_000)
    return records[-1].log_position if records else LOG_START


async def test_an_earlier_transaction_that_commits_last_is_not_skipped(pool: asyncpg.Pool) -> None:
    start = await _head(pool)
    early, late = uuid4(), uuid4()
    async with pool.acquire() as slow_conn:
        slow = slow_conn.transaction()
        await slow.start()
        await append_events(slow_conn, [_event(early, 1)], account_id=None, livemode=False)
        await _append(pool, _event(late, 1))

        # The later transaction has committed, but the earlier one may still insert before
        # it in log order, so a reader must not move past it yet.
        assert await _log_after(pool, start) == []

        await slow.commit()

    # Visible once every older transaction of the cluster has ended (other databases' too).
    async def both_seen() -> list[UUID]:
        seen = await _log_after(pool, start)
        return seen if len(seen) == 2 else []

    assert await wait_until(both_seen) == [early, late]


async def test_catch_up_with_concurrent_writers_sees_each_event_once_in_one_order(
    pool: asyncpg.Pool,
) -> None:
    start = await _head(pool)
    written = [uuid4() for _ in range(200)]
    seen: list[UUID] = []
    position = start

    async def write_all() -> None:
        await asyncio.gather(*(_append(pool, _event(oid, 1)) for oid in written))

    writer = asyncio.create_task(write_all())
    while not writer.done() or len(seen) < len(written):
        async with pool.acquire() as conn:
            batch = await read_log(conn, position, 7)
        if batch:
            seen.extend(r.originator_id for r in batch)
            position = batch[-1].log_position
        else:
            await asyncio.sleep(0.005)
    await writer

    assert sorted(seen) == sorted(written)
    assert len(seen) == len(set(seen))
    assert seen == await _log_after(pool, start)


async def _versions_in_log_order(
    pool: asyncpg.Pool, after: LogPosition, thing: UUID, count: int
) -> list[int]:
    """What a follower reading the log from `after` sees of one aggregate, once it can see
    `count` of its events."""

    async def seen() -> list[int]:
        async with pool.acquire() as conn:
            records = await read_log(conn, after, 10_000)
        versions = [r.originator_version for r in records if r.originator_id == thing]
        return versions if len(versions) >= count else []

    return await wait_until(seen)  # type: ignore[no-any-return]


async def test_a_transaction_older_than_the_previous_version_cannot_append_after_it(
    pool: asyncpg.Pool,
) -> None:
    thing = uuid4()
    await _append(pool, _event(thing, 1), _event(thing, 2), _event(thing, 3))
    start = await _head(pool)
    async with pool.acquire() as old_conn:
        old = old_conn.transaction()
        await old.start()
        # T1 takes its xid first (as a job claiming its row would), then T2 appends v4.
        old_xid = await old_conn.fetchval("SELECT pg_current_xact_id()")
        await _append(pool, _event(thing, 4))
        seen = await read_aggregate(old_conn, thing)
        assert seen[-1].originator_version == 4
        assert seen[-1].transaction_id > old_xid

        with pytest.raises(AppendOutOfOrderError) as refused:
            await append_events(old_conn, [_event(thing, 5)], account_id=None, livemode=False)
        await old.rollback()

    assert isinstance(refused.value, VersionConflictError)  # so the ledger retries it
    await _append(pool, _event(thing, 5))  # decided again in a new transaction
    assert await _versions_in_log_order(pool, start, thing, 2) == [4, 5]


async def test_a_transaction_appends_again_after_its_own_events(pool: asyncpg.Pool) -> None:
    thing = uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await append_events(conn, [_event(thing, 1)], account_id=None, livemode=False)
        await append_events(conn, [_event(thing, 2)], account_id=None, livemode=False)

    async with pool.acquire() as conn:
        assert [r.originator_version for r in await read_aggregate(conn, thing)] == [1, 2]
