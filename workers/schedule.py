"""When a failed webhook delivery (DESIGN.md §7) or send of an invoice is tried again.

Pure functions of the attempts made so far; tests/unit/test_retry_schedule.py pins the numbers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

# Seconds after the previous attempt, indexed by attempts made: the first immediately, then 5 s,
# 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h — ten attempts in about three days.
RETRY_DELAYS = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
# A send that failed for a passing reason (server busy, connection lost): 30 s, 5 min, 30 min,
# 2 h; five attempts in about two and a half hours, after which the send is marked failed.
SEND_RETRY_DELAYS = (0, 30, 300, 1800, 7200)
JITTER = 0.2
# The answers whose Retry-After a webhook receiver may slow the retries with.
RETRY_AFTER_STATUSES = frozenset({429, 503})

Jitter = Callable[[float, float], float]
"""Draws a factor between its two bounds (random.uniform; a test passes a fixed one)."""


def next_delay(
    attempts_made: int,
    scale: float = 1.0,
    delays: tuple[int, ...] = RETRY_DELAYS,
    *,
    jitter: Jitter = random.uniform,
) -> float | None:
    """Seconds to wait before the next attempt, or None once every attempt is spent."""
    if attempts_made >= len(delays):
        return None
    base = delays[attempts_made] * scale
    # Jitter spreads retries of one outage so that they do not arrive all at once.
    return base * jitter(1 - JITTER, 1 + JITTER)


def retry_after(status: int, headers: Mapping[str, str]) -> float | None:
    """The seconds a 429 or 503 answer asks to wait (`Retry-After` in seconds), or None."""
    if status not in RETRY_AFTER_STATUSES:
        return None
    try:
        return float(headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def webhook_retry_delay(
    attempts_made: int,
    *,
    asked: float | None = None,
    scale: float = 1.0,
    jitter: Jitter = random.uniform,
) -> float | None:
    """Seconds before a failed delivery's next attempt, or None when it has had them all: the
    schedule's, or longer when the receiver `asked` for longer (Retry-After)."""
    delay = next_delay(attempts_made, scale, jitter=jitter)
    if delay is not None and asked is not None:
        delay = max(delay, asked)
    return delay
