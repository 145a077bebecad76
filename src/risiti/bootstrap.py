"""The composition roots: each Risiti process is built from Settings by one function, and the
CLI only parses arguments and calls it (as cosmicpython's `bootstrap.py`).

- the api: `api_app(settings)`, the HTTP application of `risiti.api.app.create_app` as a
  serving process runs it;
- the projector: `run_projector(settings)`, the read models' projections and the webhook
  dispatcher following the log in one pipeline (one read and one fold of each batch for all of
  them); it lives here, above both, because projections and workers never import each other;
- the worker: `risiti.workers.running.run_worker(settings)`, an ARQ worker of
  `risiti.workers.settings.worker_settings(settings)`.

Nothing is opened at import: pools and clients open when the process starts and close with it.
"""

from __future__ import annotations

import asyncpg
from aiohttp import web
from arq import create_pool as create_redis_pool
from arq.connections import ArqRedis, RedisSettings

from risiti.config import Settings
from risiti.eventstore.database import create_pool
from risiti.eventstore.partitions import follow_partitions
from risiti.eventstore.subscription import Follower
from risiti.metrics import follower_readings, observe_batch, serve_metrics
from risiti.process import freeze_startup_heap
from risiti.projections.runner import projection_followers
from risiti.workers.dispatcher import Dispatcher
from risiti.workers.running import run_worker

__all__ = ["api_app", "follow_log", "projector_followers", "run_projector", "run_worker"]


def api_app(settings: Settings) -> web.Application:
    """The API as `risiti api` serves it: `create_app`, with the heap frozen once the app has
    started, keeping every imported module out of the collector's full passes (process.py)."""
    # Imported here: the projector and the worker start seconds sooner without the api's
    # modules (the PDF's fonts above all), which a supervisor restarting them waits for.
    from risiti.api.app import create_app

    app = create_app(settings)
    app.on_startup.append(_freeze_startup_heap)
    return app


async def _freeze_startup_heap(_: web.Application) -> None:
    freeze_startup_heap()


async def run_projector(settings: Settings) -> None:
    """The projector until cancelled (`follow_log`), on one database pool and one Redis pool."""
    if settings.redis_url is None:
        raise RuntimeError("RISITI_REDIS_URL is not set")
    pool = await create_pool(settings, "projector")
    redis = await create_redis_pool(
        RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.queue_name
    )
    try:
        # Started: what exists now lives as long as the process (process.py says why).
        freeze_startup_heap()
        await follow_log(settings, pool, projector_followers(settings, redis))
    finally:
        await redis.aclose()
        await pool.close()


def projector_followers(settings: Settings, redis: ArqRedis) -> list[Follower]:
    """Every follower of the log: the read models' projections and the webhook dispatcher."""
    return [*projection_followers(), Dispatcher(settings, redis)]


async def follow_log(settings: Settings, pool: asyncpg.Pool, followers: list[Follower]) -> None:
    """The followers, fed by one read and one fold of each batch, over this process's share
    of the log's partitions, serving the projector's metrics on
    RISITI_PROJECTOR_METRICS_PORT meanwhile; a failure stops it."""
    server = await serve_metrics(
        settings.host, settings.projector_metrics_port, pool, follower_readings
    )
    try:
        await follow_partitions(settings, pool, followers, observe=observe_batch)
    finally:
        if server is not None:
            await server.close()
