"""How each long-running risiti process sets up its interpreter: event loop and garbage collector.

uvloop runs aiohttp and asyncpg's I/O several times faster than the standard event loop, which
is most of an API request's time. Freezing the heap after start-up keeps the objects of every
imported module out of the cyclic collector's full passes, whose pauses otherwise show in the
slowest requests: under bench/read.py's list load an api process's full passes took up to 40 ms
each without it, under 1 ms with it. Each long-running process freezes once it has started: the
api (`risiti.bootstrap.api_app`), the projector (`risiti.bootstrap.run_projector`) and the worker
(`risiti.workers.running`).
"""

from __future__ import annotations

import asyncio
import gc

import uvloop


def use_fast_event_loop() -> None:
    """Make every event loop this process creates from now on a uvloop loop."""
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def freeze_startup_heap() -> None:
    """Move what exists now out of reach of the cyclic garbage collector, for good."""
    gc.collect()
    gc.freeze()
