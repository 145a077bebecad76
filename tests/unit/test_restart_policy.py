"""How `risiti dev` starts again a process that exited (src/risiti/supervisor.py): a delay that
doubles with each crash of the last minute, and giving up at the fifth."""

from __future__ import annotations

from risiti.supervisor import Restarts, restart_delay


def test_first_crash_is_started_again_after_half_a_second() -> None:
    assert restart_delay([100.0], now=100.0) == 0.5


def test_each_crash_of_the_last_minute_doubles_the_delay() -> None:
    crashes = [100.0, 101.0, 103.0, 107.0]

    delays = [restart_delay(crashes[: n + 1], now=crashes[n]) for n in range(len(crashes))]

    assert delays == [0.5, 1.0, 2.0, 4.0]


def test_the_fifth_crash_within_a_minute_gives_up() -> None:
    assert restart_delay([100.0, 101.0, 103.0, 107.0, 115.0], now=115.0) is None


def test_crashes_older_than_a_minute_are_forgotten() -> None:
    assert restart_delay([0.0, 10.0, 20.0, 30.0, 100.0], now=100.0) == 0.5


def test_a_process_crashing_every_second_is_given_up_on_its_fifth_crash() -> None:
    restarts = Restarts()

    delays = [restarts.crashed(now=float(moment)) for moment in range(5)]

    assert delays == [0.5, 1.0, 2.0, 4.0, None]
    assert restarts.due_at is None
