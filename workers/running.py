"""`risiti worker`: the ARQ worker, started again whenever it loses Redis.

ARQ's worker stops at the first Redis error. Redis only carries wake-ups (DESIGN.md §8), so an
outage must delay work, never end it: the worker waits and comes back, and its sweeper then
re-enqueues whatever was written to PostgreSQL while Redis was away. The wait doubles from half
a second to 30 s while Redis stays away, with jitter so that many workers do not all knock at
once when it returns; a worker that then ran a healthy minute starts from half a second again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from typing import Any

from arq import Worker
from redis.exceptions import RedisError

from risiti.config import Settings
from risiti.process import freeze_startup_heap
from risiti.workers.settings import shutdown, startup, worker_settings

log = logging.getLogger(__name__)

FIRST_RECONNECT_SECONDS = 0.5
MAX_RECONNECT_SECONDS = 30.0
HEALTHY_SECONDS = 60.0
"""A worker that ran this long before losing Redis had recovered: its next wait starts afresh."""


def reconnect_delay(failures: int, jitter: float) -> float:
    """The wait before the worker starts again after its `failures`-th loss of Redis in a row
    (1, 2, …): 0.5 s doubling up to 30 s, scaled by `jitter` in [0, 1) to between half and all
    of it ("equal jitter"), so that it never drops to nothing and never exceeds the cap."""
    ceiling = min(MAX_RECONNECT_SECONDS, FIRST_RECONNECT_SECONDS * 2.0 ** min(failures - 1, 16))
    return ceiling / 2 + ceiling / 2 * jitter


def losses_in_a_row(previous: int, ran_seconds: float) -> int:
    """How many times in a row Redis is now lost: a run of a healthy minute ends the streak."""
    return 1 if ran_seconds >= HEALTHY_SECONDS else previous + 1


async def _start_then_freeze(ctx: dict[str, Any]) -> None:
    """`startup`, then the heap frozen (risiti/process.py says why): here, where only the
    `risiti worker` process starts workers, and not in the tests that run one among theirs."""
    await startup(ctx)
    freeze_startup_heap()


async def run_worker(settings: Settings) -> None:
    """Run the worker until it is stopped (SIGINT/SIGTERM), through any Redis outage."""
    failures = 0
    while True:
        worker = Worker(**worker_settings(settings) | {"on_startup": _start_then_freeze})
        started = time.monotonic()
        try:
            await worker.async_run()
            return
        except asyncio.CancelledError:
            return  # stopped by a signal: ARQ cancels its own main task
        except (OSError, RedisError) as error:
            failures = losses_in_a_row(failures, time.monotonic() - started)
            delay = reconnect_delay(failures, random.random())
            log.warning("lost Redis (%s); starting again in %.1f s", error, delay)
        finally:
            with contextlib.suppress(Exception):
                await worker.close()
            await shutdown(worker.ctx)
        await asyncio.sleep(delay)
