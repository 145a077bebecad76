"""Which errors park an aggregate, and which say nothing about the event and must propagate so
that the follower's process tries the batch again (eventstore/parked.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import orjson
import pytest
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import MapperDeserialisationError

from risiti.eventstore.parked import before_parked, is_transient
from risiti.eventstore.recorder import RecordedEvent


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.NumericValueOutOfRangeError("value out of int64 range"),
        orjson.JSONEncodeError("Integer exceeds 64-bit range"),
        OriginatorVersionError(5, 4),
        MapperDeserialisationError("Failed to deserialise state"),
        KeyError("status"),
        ValueError("bad figure"),
    ],
)
def test_an_error_of_the_event_parks_its_aggregate(error: Exception) -> None:
    assert not is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("connection reset by peer"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.InterfaceError("another operation is in progress"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.DiskFullError("no space left on device"),
        asyncpg.exceptions.LockNotAvailableError("could not obtain lock"),
    ],
)
def test_an_error_of_the_connection_or_server_is_not_the_events_fault(error: Exception) -> None:
    assert is_transient(error)


def _event(originator_id: UUID, version: int) -> RecordedEvent:
    return RecordedEvent(
        position=version,
        transaction_id=1,
        originator_id=originator_id,
        originator_version=version,
        topic="t",
        state=b"{}",
        account_id=None,
        livemode=False,
        recorded_at=datetime.now(UTC),
        hash=bytes(32),
    )


def test_a_rebuild_applies_a_parked_aggregate_only_up_to_its_parked_event() -> None:
    parked, other = uuid4(), uuid4()
    batch = [_event(parked, 1), _event(other, 1), _event(parked, 2), _event(parked, 3)]

    kept = before_parked(batch, {parked: 2})

    assert [(e.originator_id, e.originator_version) for e in kept] == [(parked, 1), (other, 1)]
    assert before_parked(batch, {}) == batch
