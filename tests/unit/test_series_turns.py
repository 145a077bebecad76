"""Turns at a numbering series in one process (eventstore/series_turns.py): in order, one at a
time, and never waited for past TURN_WAIT_SECONDS."""

from __future__ import annotations

import asyncio

import pytest

from risiti.eventstore import series_turns
from risiti.eventstore.series_turns import SeriesTurns

SERIES = ("account", False, "INV", 2026)


async def test_transactions_take_a_series_number_one_at_a_time_in_the_order_they_asked() -> None:
    turns = SeriesTurns()
    served: list[int] = []

    async def transaction(number: int) -> None:
        turn = await turns.wait_turn(SERIES)
        assert turn is not None
        served.append(number)
        await asyncio.sleep(0.01)  # the number taken and held until the commit
        turn.release()

    await asyncio.gather(*(transaction(n) for n in range(5)))
    assert served == [0, 1, 2, 3, 4]


async def test_other_series_do_not_wait() -> None:
    turns = SeriesTurns()
    held = await turns.wait_turn(SERIES)
    assert held is not None
    other = await asyncio.wait_for(turns.wait_turn(("account", False, "RCT", 2026)), 0.5)
    assert other is not None


async def test_a_turn_not_given_within_the_wait_is_given_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(series_turns, "TURN_WAIT_SECONDS", 0.05)
    turns = SeriesTurns()
    held = await turns.wait_turn(SERIES)
    assert held is not None
    assert await turns.wait_turn(SERIES) is None
    held.release()
    assert await turns.wait_turn(SERIES) is not None
