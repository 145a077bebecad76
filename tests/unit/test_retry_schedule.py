"""The webhook retry schedule of DESIGN.md §7, pinned: an attempt immediately, then after 5 s,
5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (±20 % jitter), and `Retry-After` honoured
on 429 and 503. Sends of invoices keep their own, shorter schedule."""

from __future__ import annotations

import pytest

from risiti.workers.schedule import (
    SEND_RETRY_DELAYS,
    next_delay,
    retry_after,
    webhook_retry_delay,
)

MINUTE, HOUR = 60, 3600
DESIGN_SCHEDULE = [
    0,
    5,
    5 * MINUTE,
    30 * MINUTE,
    2 * HOUR,
    5 * HOUR,
    10 * HOUR,
    14 * HOUR,
    20 * HOUR,
    24 * HOUR,
]


def _exact(low: float, high: float) -> float:
    return 1.0


def _lowest(low: float, high: float) -> float:
    return low


def _highest(low: float, high: float) -> float:
    return high


def test_webhook_attempts_follow_design_section_7() -> None:
    delays = [webhook_retry_delay(made, jitter=_exact) for made in range(len(DESIGN_SCHEDULE))]
    assert delays == DESIGN_SCHEDULE


def test_a_delivery_gets_ten_attempts_in_about_three_days() -> None:
    assert webhook_retry_delay(len(DESIGN_SCHEDULE), jitter=_exact) is None
    assert 3 * 24 * HOUR < sum(DESIGN_SCHEDULE) < 3.25 * 24 * HOUR


@pytest.mark.parametrize("made", range(len(DESIGN_SCHEDULE)))
def test_jitter_is_twenty_percent_either_way(made: int) -> None:
    assert webhook_retry_delay(made, jitter=_lowest) == pytest.approx(DESIGN_SCHEDULE[made] * 0.8)
    assert webhook_retry_delay(made, jitter=_highest) == pytest.approx(DESIGN_SCHEDULE[made] * 1.2)
    for _ in range(20):
        delay = webhook_retry_delay(made)
        assert delay is not None
        assert DESIGN_SCHEDULE[made] * 0.8 <= delay <= DESIGN_SCHEDULE[made] * 1.2


def test_retry_after_is_honoured_on_429_and_503_only() -> None:
    assert retry_after(429, {"Retry-After": "120"}) == 120
    assert retry_after(503, {"Retry-After": "7.5"}) == 7.5
    assert retry_after(500, {"Retry-After": "120"}) is None
    assert retry_after(429, {}) is None
    assert retry_after(503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None


def test_a_longer_retry_after_postpones_the_next_attempt_and_a_shorter_one_does_not() -> None:
    assert webhook_retry_delay(1, asked=600, jitter=_exact) == 600
    assert webhook_retry_delay(3, asked=600, jitter=_exact) == 30 * MINUTE
    assert webhook_retry_delay(len(DESIGN_SCHEDULE), asked=600, jitter=_exact) is None


def test_the_test_settings_scale_the_schedule() -> None:
    assert webhook_retry_delay(2, scale=0.01, jitter=_exact) == pytest.approx(3.0)


def test_sends_are_retried_after_30_s_5_min_30_min_and_2_h() -> None:
    delays = [next_delay(made, 1.0, SEND_RETRY_DELAYS, jitter=_exact) for made in range(5)]
    assert delays == [0, 30, 5 * MINUTE, 30 * MINUTE, 2 * HOUR]
    assert next_delay(5, 1.0, SEND_RETRY_DELAYS) is None
