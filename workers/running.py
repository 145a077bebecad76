"""`risiti worker`: the ARQ worker, started again whenever it loses Redis.

ARQ's worker stops at the first Redis error. Redis only carries wake-ups (DESIGN.md §8), so an
outage must delay work, never end it: the worker waits and comes back, and its sweeper then
re-enqueues whatever was written to PostgreSQL while Redis was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from arq import Worker
from redis.exceptions import RedisError

from risiti.config import Settings
from risiti.workers.settings import shutdown, worker_settings

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 2.0


async def run_worker(settings: Settings) -> None:
    """Run the worker until it is stopped (SIGINT/SIGTERM), through any Redis outage."""
    while True:
        worker = Worker(**worker_settings(settings))
        try:
            await worker.async_run()
            return
        except asyncio.CancelledError:
            return  # stopped by a signal: ARQ cancels its own main task
        except (OSError, RedisError) as error:
            log.warning("lost Redis (%s); starting again in %.0f s", error, RECONNECT_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await worker.close()
            await shutdown(worker.ctx)
        await asyncio.sleep(RECONNECT_SECONDS)
