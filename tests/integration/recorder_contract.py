"""The contract of Risiti's event recorders: append, conflict, read back, ordered catch-up,
within one aggregate log order = version order (DESIGN.md §3), and the rows written beside the
events. One definition, run against each recorder (as the eventsourcing library's
tests/persistence.py): PostgreSQL's in test_recorder_contract.py, the in-memory one in
tests/unit/test_memory_recorder.py. A subclass gives the `recorder` fixture."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from risiti.eventstore.errors import AppendOutOfOrderError, RowTakenError, VersionConflictError
from risiti.eventstore.hashchain import GENESIS, chain_hash
from risiti.eventstore.recorder import LOG_START, LogPosition
from risiti.eventstore.recording import Recorder

T = TypeVar("T")


def _event(originator_id: UUID, version: int, state: bytes = b"{}") -> StoredEvent:
    return StoredEvent(originator_id, version, "tests:Thing.Happened", state)


async def _append(recorder: Recorder, *events: StoredEvent) -> list[int]:
    async with recorder.transaction() as unit:
        return await unit.append(list(events), account_id=None, livemode=False)


async def _log_after(
    recorder: Recorder, after: LogPosition, of: set[UUID] | None = None
) -> list[UUID]:
    """The aggregates of the events after `after` (only those in `of`: while other databases'
    transactions hold the cluster's horizon back, earlier tests' events may still come)."""
    records = await recorder.read_log(after, 10_000)
    return [r.originator_id for r in records if of is None or r.originator_id in of]


async def _head(recorder: Recorder) -> LogPosition:
    records = await recorder.read_log(LOG_START, 1_000_000)
    return records[-1].log_position if records else LOG_START


async def _eventually(found: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:  # noqa: ASYNC109
    """What `found` returns once it is truthy: another database's transaction may hold the
    cluster's horizon back a moment."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await found()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)
    return result


class Undone(Exception):
    """Raised in a test to roll a unit of work back."""


class RecorderContract:
    async def test_appended_events_read_back_in_version_order(self, recorder: Recorder) -> None:
        thing = uuid4()
        await _append(recorder, _event(thing, 1, b'{"a":1}'), _event(thing, 2, b'{"a":2}'))
        await _append(recorder, _event(thing, 3, b'{"a":3}'))

        records = await recorder.read_aggregate(thing)
        first_two = await recorder.read_aggregate(thing, up_to_version=2)

        assert [(r.originator_version, r.state) for r in records] == [
            (1, b'{"a":1}'),
            (2, b'{"a":2}'),
            (3, b'{"a":3}'),
        ]
        assert len(first_two) == 2

    async def test_appending_a_taken_version_conflicts_and_appends_nothing(
        self, recorder: Recorder
    ) -> None:
        thing = uuid4()
        await _append(recorder, _event(thing, 1))

        with pytest.raises(VersionConflictError):
            await _append(recorder, _event(thing, 2), _event(thing, 1))

        assert len(await recorder.read_aggregate(thing)) == 1

    async def test_concurrent_writers_of_one_version_only_one_wins(
        self, recorder: Recorder
    ) -> None:
        thing = uuid4()
        results = await asyncio.gather(
            *(_append(recorder, _event(thing, 1)) for _ in range(10)), return_exceptions=True
        )

        assert sum(not isinstance(r, BaseException) for r in results) == 1
        assert all(isinstance(r, VersionConflictError) for r in results if isinstance(r, Exception))

    async def test_each_hash_chains_to_the_previous_event_of_its_aggregate(
        self, recorder: Recorder
    ) -> None:
        thing = uuid4()
        await _append(recorder, _event(thing, 1, b"one"))
        await _append(recorder, _event(thing, 2, b"two"))

        first, second = await recorder.read_aggregate(thing)

        assert first.hash == chain_hash(GENESIS, thing, 1, first.topic, b"one")
        assert second.hash == chain_hash(first.hash, thing, 2, second.topic, b"two")

    async def test_a_unit_of_work_that_raises_appends_nothing(self, recorder: Recorder) -> None:
        thing = uuid4()
        with pytest.raises(Undone):
            async with recorder.transaction() as unit:
                await unit.append([_event(thing, 1)], account_id=None, livemode=False)
                raise Undone

        assert await recorder.read_aggregate(thing) == []
        await _append(recorder, _event(thing, 1))  # the version is free again

    async def test_an_earlier_transaction_that_commits_last_is_not_skipped(
        self, recorder: Recorder
    ) -> None:
        start = await _head(recorder)
        early, late = uuid4(), uuid4()
        async with recorder.transaction() as slow:
            await slow.append([_event(early, 1)], account_id=None, livemode=False)
            await _append(recorder, _event(late, 1))

            # The later transaction has committed, but the earlier one may still insert before
            # it in log order, so a reader must not move past it yet.
            assert await _log_after(recorder, start, {early, late}) == []

        # Visible once every older transaction of the cluster has ended (other databases' too).
        async def both_seen() -> list[UUID]:
            seen = await _log_after(recorder, start, {early, late})
            return seen if len(seen) == 2 else []

        assert await _eventually(both_seen) == [early, late]

    async def test_catch_up_with_concurrent_writers_sees_each_event_once_in_one_order(
        self, recorder: Recorder
    ) -> None:
        start = await _head(recorder)
        written = [uuid4() for _ in range(200)]
        seen: list[UUID] = []
        position = start

        async def write_all() -> None:
            await asyncio.gather(*(_append(recorder, _event(oid, 1)) for oid in written))

        writer = asyncio.create_task(write_all())
        while not writer.done() or len(seen) < len(written):
            batch = await recorder.read_log(position, 7)
            if batch:
                seen.extend(r.originator_id for r in batch if r.originator_id in set(written))
                position = batch[-1].log_position
            else:
                await asyncio.sleep(0.005)
        await writer

        assert sorted(seen) == sorted(written)
        assert len(seen) == len(set(seen))
        assert seen == await _log_after(recorder, start, set(written))

    async def test_a_transaction_older_than_the_previous_version_cannot_append_after_it(
        self, recorder: Recorder
    ) -> None:
        thing = uuid4()
        await _append(recorder, _event(thing, 1), _event(thing, 2), _event(thing, 3))
        with pytest.raises(AppendOutOfOrderError) as refused:
            async with recorder.transaction() as old:
                # T1 takes its xid first (as a job claiming its row would), then T2 appends v4.
                old_xid = await old.transaction_id()
                await _append(recorder, _event(thing, 4))
                seen = await old.read_aggregate(thing)
                assert seen[-1].originator_version == 4
                assert seen[-1].transaction_id > old_xid

                await old.append([_event(thing, 5)], account_id=None, livemode=False)

        assert isinstance(refused.value, VersionConflictError)  # so the ledger retries it
        await _append(recorder, _event(thing, 5))  # decided again in a new transaction

        async def versions_in_log_order() -> list[int]:
            records = await recorder.read_log(LOG_START, 100_000)
            versions = [r.originator_version for r in records if r.originator_id == thing]
            return versions if len(versions) >= 5 else []

        assert await _eventually(versions_in_log_order) == [1, 2, 3, 4, 5]

    async def test_a_transaction_appends_again_after_its_own_events(
        self, recorder: Recorder
    ) -> None:
        thing = uuid4()
        async with recorder.transaction() as unit:
            await unit.append([_event(thing, 1)], account_id=None, livemode=False)
            await unit.append([_event(thing, 2)], account_id=None, livemode=False)
            assert [r.originator_version for r in await unit.read_aggregate(thing)] == [1, 2]

        assert [r.originator_version for r in await recorder.read_aggregate(thing)] == [1, 2]

    async def test_a_series_counts_without_gaps_and_a_rollback_gives_its_number_back(
        self, recorder: Recorder
    ) -> None:
        account = uuid4()
        async with recorder.transaction() as unit:
            taken = [await unit.side_tables.take_next_number(account, False, "INV", 2026)]
        with pytest.raises(Undone):
            async with recorder.transaction() as unit:
                await unit.side_tables.take_next_number(account, False, "INV", 2026)
                raise Undone
        async with recorder.transaction() as unit:
            taken.append(await unit.side_tables.take_next_number(account, False, "INV", 2026))
            other_series = await unit.side_tables.take_next_number(account, True, "INV", 2026)

        assert taken == [1, 2]
        assert other_series == 1

    async def test_a_document_number_is_held_by_one_invoice(self, recorder: Recorder) -> None:
        account, first = uuid4(), uuid4()
        async with recorder.transaction() as unit:
            await unit.side_tables.claim_invoice_number(account, False, "INV-2026-0001", first)

        with pytest.raises(RowTakenError):
            async with recorder.transaction() as unit:
                await unit.side_tables.claim_invoice_number(
                    account, False, "INV-2026-0001", uuid4()
                )
        async with recorder.transaction() as unit:  # the same number in live mode is another
            await unit.side_tables.claim_invoice_number(account, True, "INV-2026-0001", uuid4())

    async def test_an_external_id_is_held_by_one_of_its_kind_per_account_and_mode(
        self, recorder: Recorder
    ) -> None:
        account, first, second = uuid4(), uuid4(), uuid4()
        async with recorder.transaction() as unit:
            claimed = await unit.side_tables.claim_external_id(
                account, False, "customer", "cus_1", first
            )
        async with recorder.transaction() as unit:
            taken = await unit.side_tables.claim_external_id(
                account, False, "customer", "cus_1", second
            )
            live = await unit.side_tables.claim_external_id(
                account, True, "customer", "cus_1", second
            )
            other_kind = await unit.side_tables.claim_external_id(
                account, False, "tax_rate", "cus_1", uuid4()
            )
            found = await unit.side_tables.find_external_id(account, False, "customer", "cus_1")
            elsewhere = await unit.side_tables.find_external_id(uuid4(), False, "customer", "cus_1")

        assert (claimed, taken, live, found, elsewhere) == (first, first, second, first, None)
        assert other_kind != first

    async def test_a_rolled_back_external_id_is_free_again(self, recorder: Recorder) -> None:
        account, holder = uuid4(), uuid4()
        with pytest.raises(Undone):
            async with recorder.transaction() as unit:
                await unit.side_tables.claim_external_id(account, False, "customer", "c", uuid4())
                raise Undone
        async with recorder.transaction() as unit:
            missing = await unit.side_tables.find_external_id(account, False, "customer", "c")
            claimed = await unit.side_tables.claim_external_id(
                account, False, "customer", "c", holder
            )

        assert (missing, claimed) == (None, holder)
