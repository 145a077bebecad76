"""`calendar.today`: the day every rule depends on is the UTC day, whatever the local zone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from risiti.domain import calendar


@pytest.fixture
def far_east_local_time() -> Iterator[None]:
    """A local zone 14 hours ahead of UTC, where the local day differs from UTC's for 14 hours
    of every 24."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Etc/GMT-14"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


def test_today_is_the_utc_day_whatever_the_local_zone(far_east_local_time: None) -> None:
    before = datetime.now(UTC).date()
    today = calendar.today()
    after = datetime.now(UTC).date()
    assert today in (before, after)
