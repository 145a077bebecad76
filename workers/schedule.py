"""When a failed webhook delivery (DESIGN.md §7) or send of an invoice is tried again."""

from __future__ import annotations

import random

# Seconds after the previous attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
# 20 h, 24 h — about three days in all.
RETRY_DELAYS = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
# A send that failed for a passing reason (server busy, connection lost): 30 s, 5 min, 30 min,
# 2 h; five attempts in about two and a half hours, after which the send is marked failed.
SEND_RETRY_DELAYS = (0, 30, 300, 1800, 7200)
JITTER = 0.2


def next_delay(
    attempts_made: int, scale: float = 1.0, delays: tuple[int, ...] = RETRY_DELAYS
) -> float | None:
    """Seconds to wait before the next attempt, or None once every attempt is spent."""
    if attempts_made >= len(delays):
        return None
    base = delays[attempts_made] * scale
    # Jitter spreads retries of one outage so that they do not arrive all at once.
    return base * random.uniform(1 - JITTER, 1 + JITTER)
