"""The composition roots: each Risiti process is built from Settings by one function, and the
CLI only parses arguments and calls it (as cosmicpython's `bootstrap.py`).

- the api: `api_app(settings)`, the HTTP application of `risiti.api.app.create_app` as a
  serving process runs it;
- the projector: `run_projector(settings)`, the read models' projections and the webhook
  dispatcher following the log side by side; it lives here, above both, because projections
  and workers never import each other;
- the worker: `risiti.workers.running.run_worker(settings)`, an ARQ worker of
  `risiti.workers.settings.worker_settings(settings)`.

Nothing is opened at import: pools and clients open when the process starts and close with it.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from arq import create_pool as create_redis_pool
from arq.connections import RedisSettings

from risiti.api.app import create_app
from risiti.config import Settings
from risiti.eventstore.database import create_pool
from risiti.process import freeze_startup_heap
from risiti.projections.runner import run_projections
from risiti.workers.dispatcher import Dispatcher
from risiti.workers.running import run_worker

__all__ = ["api_app", "run_projector", "run_worker"]


def api_app(settings: Settings) -> web.Application:
    """The API as `risiti api` serves it: `create_app`, with the heap frozen once the app has
    started, keeping every imported module out of the collector's full passes (process.py)."""
    app = create_app(settings)
    app.on_startup.append(_freeze_startup_heap)
    return app


async def _freeze_startup_heap(_: web.Application) -> None:
    freeze_startup_heap()


async def run_projector(settings: Settings) -> None:
    """The projector until cancelled: every projection and the dispatcher, on one database
    pool and one Redis pool; if one of them fails, the others stop and the failure is raised."""
    if settings.redis_url is None:
        raise RuntimeError("RISITI_REDIS_URL is not set")
    pool = await create_pool(settings, "projector")
    redis = await create_redis_pool(
        RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.queue_name
    )
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(run_projections(settings, pool))
            group.create_task(Dispatcher(settings, pool, redis).run())
    finally:
        await redis.aclose()
        await pool.close()
