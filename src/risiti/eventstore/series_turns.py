"""Turns at a numbering series within one process: the transactions of a process that take the
next number of the same series (`document_numbers`) wait for one another here, in order, and
only the one whose turn it is waits on the series' row in PostgreSQL.

Why: each transaction holds the series' row from its number until it commits. With every
waiter queued on the row in PostgreSQL, `risiti api --processes 2` on one account's series
answered its slowest creates 4.4 times slower than its median (bench/http.py, 32 connections).
A transaction that has a turn already takes no second one, so two series are never awaited in
two orders; and no turn is waited for longer than TURN_WAIT_SECONDS. Past that wait, the
transaction queues on the row in PostgreSQL as before, whose deadlock detection then sees every
wait.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Hashable

TURN_WAIT_SECONDS = 1.0


class SeriesTurns:
    """The turns of one process; a series' lock lives while a transaction holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[Hashable, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def wait_turn(self, series: Hashable) -> asyncio.Lock | None:
        """The series' lock, acquired, once it is this caller's turn; None after
        TURN_WAIT_SECONDS without one. The caller releases it when its transaction ends."""
        lock = self._locks.get(series)
        if lock is None:
            lock = self._locks[series] = asyncio.Lock()
        try:
            async with asyncio.timeout(TURN_WAIT_SECONDS):
                await lock.acquire()
        except TimeoutError:
            return None
        return lock


TURNS = SeriesTurns()
"""This process's turns."""
