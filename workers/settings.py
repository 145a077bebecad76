"""ARQ `WorkerSettings` for `risiti worker`: the worker's composition root, `worker_settings`,
builds every job's context from the Settings it is given (risiti.bootstrap lists the roots)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from arq import Retry, cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import WorkerCoroutine

from risiti.config import Settings
from risiti.eventstore.database import create_pool
from risiti.logs import log_context
from risiti.metrics import JOBS, serve_metrics
from risiti.workers.channels import open_channels
from risiti.workers.checkpoints import checkpoint_log
from risiti.workers.housekeeping import (
    forget_expired_idempotency_keys,
    forget_used_request_signatures,
)
from risiti.workers.inventory import move_invoice_stock, sweep_inventory_jobs
from risiti.workers.jobs import deliver_webhooks, sweep_deliveries
from risiti.workers.overdue import mark_overdue
from risiti.workers.receivers import Receivers
from risiti.workers.reminders import send_reminders
from risiti.workers.sending import send_document, sweep_document_sends


async def startup(ctx: dict[str, Any]) -> None:
    """Open what the jobs share, from the settings `worker_settings` put in the context (the
    worker's composition root: nothing here reads the environment)."""
    settings: Settings = ctx["settings"]
    ctx["pool"] = await create_pool(settings, "worker", stateless=True)
    ctx["receivers"] = Receivers(settings)
    ctx["channels"] = open_channels(settings)
    ctx["metrics"] = await serve_metrics(settings.host, settings.worker_metrics_port)


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close what `startup` opened; safe to call again (a worker that lost Redis may not have)."""
    for name in ("metrics", "receivers", "channels", "pool"):
        if opened := ctx.pop(name, None):
            await opened.close()


def observed(job: WorkerCoroutine) -> WorkerCoroutine:
    """The job, counted by outcome in `risiti_jobs_total`, with its name and ARQ job id on
    every line it logs."""

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        name = job.__name__  # type: ignore[attr-defined]  # a function, as every job is
        outcome = "failed"
        with log_context(job=name, job_id=ctx.get("job_id")):
            try:
                result = await job(ctx, *args, **kwargs)
                outcome = "succeeded"
                return result
            except Retry:
                outcome = "retried"
                raise
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            finally:
                JOBS.labels(name, outcome).inc()

    return run


def _scheduled_jobs(queue_name: str) -> list[CronJob]:
    """The periodic jobs, each under a name of this queue's: arq derives a run's job id from the
    cron's name and time alone, and job ids are global in Redis, so deployments (or test runs)
    sharing one Redis database under different queue names would otherwise each skip the runs
    the other enqueued first, and never run them."""

    def scheduled(job: WorkerCoroutine, **when: Any) -> CronJob:
        name = job.__name__  # type: ignore[attr-defined]  # a function, as every job is
        return cron(observed(job), name=f"cron:{queue_name}:{name}", **when)

    return [
        scheduled(sweep_deliveries, second=set(range(0, 60, 5)), run_at_startup=True),
        scheduled(sweep_inventory_jobs, second=set(range(0, 60, 5)), run_at_startup=True),
        scheduled(forget_expired_idempotency_keys, minute=17, second=0),
        scheduled(forget_used_request_signatures, minute=set(range(3, 60, 5)), second=40),
        scheduled(
            mark_overdue,
            minute=set(range(0, 60, 10)),
            second=0,
            run_at_startup=True,
            # A backlog may take longer than a delivery; what is left waits for the next run.
            timeout=540,
        ),
        # Auditors' checkpoints of the log (docs/auditing.md), every minute; a backlog may take
        # a while.
        scheduled(checkpoint_log, second=30, timeout=540),
        scheduled(sweep_document_sends, second=set(range(2, 60, 5)), run_at_startup=True),
        scheduled(
            send_reminders, minute=set(range(5, 60, 10)), second=0, run_at_startup=True, timeout=540
        ),
    ]


def worker_settings(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of `arq.Worker` for these settings."""
    if settings.redis_url is None:
        raise RuntimeError("RISITI_REDIS_URL is not set")
    return {
        "functions": [
            observed(job) for job in (deliver_webhooks, send_document, move_invoice_stock)
        ],
        "cron_jobs": _scheduled_jobs(settings.queue_name),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": settings.queue_name,
        "ctx": {"settings": settings},
        # Short, so that a crashed worker's job is run again within a minute (DESIGN §8).
        "job_timeout": settings.job_claim_seconds * 0.75,
        "keep_result": 60,
        "max_tries": 3,
    }
