"""How long `risiti worker` waits before starting again after losing Redis (workers/running.py):
half a second doubling to 30 s, with jitter, afresh after a healthy minute."""

from __future__ import annotations

import pytest

from risiti.workers.running import MAX_RECONNECT_SECONDS, losses_in_a_row, reconnect_delay


def test_the_first_loss_waits_up_to_half_a_second() -> None:
    assert reconnect_delay(1, jitter=0.999999) == pytest.approx(0.5)
    assert reconnect_delay(1, jitter=0.0) == 0.25


def test_each_loss_in_a_row_doubles_the_longest_wait() -> None:
    longest = [reconnect_delay(n, jitter=1.0) for n in range(1, 8)]

    assert longest == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]


def test_the_wait_never_passes_thirty_seconds_however_long_redis_stays_away() -> None:
    assert reconnect_delay(1_000_000, jitter=0.999999) <= MAX_RECONNECT_SECONDS
    assert reconnect_delay(1_000_000, jitter=0.0) == MAX_RECONNECT_SECONDS / 2


@pytest.mark.parametrize("failures", [1, 3, 9])
def test_jitter_spreads_workers_over_the_second_half_of_the_wait(failures: int) -> None:
    waits = {reconnect_delay(failures, jitter=j / 10) for j in range(10)}
    longest = reconnect_delay(failures, jitter=1.0)

    assert len(waits) == 10
    assert min(waits) == longest / 2
    assert max(waits) < longest


def test_a_loss_soon_after_the_last_one_continues_the_streak() -> None:
    assert losses_in_a_row(3, ran_seconds=5.0) == 4


def test_a_healthy_minute_starts_the_waits_from_half_a_second_again() -> None:
    failures = losses_in_a_row(6, ran_seconds=60.0)

    assert failures == 1
    assert reconnect_delay(failures, jitter=1.0) == 0.5
