"""Api processes sharing a port take new connections in turn (risiti.api.shared_port)."""

from __future__ import annotations

from pathlib import Path

import pytest

from risiti.api.shared_port import SILENT_SECONDS, STARTUP_SECONDS, ConnectionCounts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _table(tmp_path: Path, processes: int, clock: Clock) -> list[ConnectionCounts]:
    path = tmp_path / "connections"
    ConnectionCounts.create(path, processes, clock)
    return [ConnectionCounts(path, slot, clock) for slot in range(processes)]


def test_processes_holding_as_many_connections_may_all_accept(tmp_path: Path) -> None:
    clock = Clock()
    first, second = _table(tmp_path, 2, clock)
    first.publish(8)
    second.publish(8)

    assert first.may_accept()
    assert second.may_accept()


def test_a_process_holding_more_connections_than_a_sibling_waits_its_turn(
    tmp_path: Path,
) -> None:
    clock = Clock()
    first, second, third = _table(tmp_path, 3, clock)
    first.publish(5)
    second.publish(4)
    third.publish(5)

    assert not first.may_accept()
    assert second.may_accept()
    assert not third.may_accept()


def test_a_sibling_not_started_yet_is_waited_for_during_startup_only(tmp_path: Path) -> None:
    clock = Clock()
    first, _second = _table(tmp_path, 2, clock)
    first.publish(1)

    assert not first.may_accept()
    clock.now += STARTUP_SECONDS + 0.1
    first.publish(1)
    assert first.may_accept()


@pytest.mark.parametrize(
    ("silent_for", "waited_for"),
    [(SILENT_SECONDS / 2, True), (SILENT_SECONDS + 0.1, False)],
    ids=["heard-from-recently", "silent"],
)
def test_a_sibling_is_waited_for_only_while_it_keeps_writing_its_count(
    tmp_path: Path, silent_for: float, waited_for: bool
) -> None:
    clock = Clock()
    first, second = _table(tmp_path, 2, clock)
    second.publish(0)
    clock.now += silent_for
    first.publish(3)

    assert first.may_accept() is not waited_for
