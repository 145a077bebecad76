"""ARQ jobs of inventory (DESIGN.md §8): move stock for an issued, amended or voided invoice,
and sweep up jobs whose wake-up was lost (or an amendment's, left pending until its invoice's
deduction is done).

The `inventory_jobs` row is the truth, inserted by the dispatcher; Redis only wakes a worker.
The job claims its row in the transaction that moves the stock, so it may run any number of
times (ARQ may run one twice, the sweeper re-enqueues) and stock moves once.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from arq.connections import ArqRedis

from risiti.commands.inventory import settle_invoice_stock
from risiti.commands.ledger import Ledger
from risiti.domain.stock import AMEND
from risiti.eventstore.outbox import lost_inventory_jobs
from risiti.workers.wakeups import REDIS_DOWN

log = logging.getLogger(__name__)

_JOB_NAMESPACE = uuid5(NAMESPACE_URL, "risiti:inventory-jobs")
# A job pending this long was not woken, or its worker died (ARQ's job timeout is 45 s).
SWEEP_AFTER_SECONDS = 2


def inventory_job_id(invoice_id: UUID, kind: str, version: int | None = None) -> UUID:
    """One deduction and one restoration per invoice, and one job per amendment (of the
    invoice's `version` then), whoever derives them."""
    if kind == AMEND:
        return uuid5(_JOB_NAMESPACE, f"{invoice_id}:{kind}:{version}")
    return uuid5(_JOB_NAMESPACE, f"{invoice_id}:{kind}")


async def enqueue_inventory_job(redis: ArqRedis, job_id: UUID, suffix: str = "") -> None:
    """Wake a worker for a job; if Redis is unreachable the sweeper will do it later."""
    try:
        await redis.enqueue_job(
            "move_invoice_stock", str(job_id), _job_id=f"stock:{job_id}{suffix}"
        )
    except REDIS_DOWN as error:
        log.warning("could not enqueue inventory job %s: %s", job_id, error)


async def move_invoice_stock(ctx: dict[str, Any], job_id: str) -> bool:
    """Take an issued invoice's units from stock, or give a voided one's back; False if the
    job was done already."""
    return await settle_invoice_stock(
        Ledger(ctx["pool"], actor="job:move_invoice_stock"), UUID(job_id)
    )


async def sweep_inventory_jobs(ctx: dict[str, Any]) -> int:
    """Re-enqueue jobs still pending: their wake-up never reached a worker, or it crashed."""
    lost = await lost_inventory_jobs(ctx["pool"], SWEEP_AFTER_SECONDS)
    for job_id in lost:
        await enqueue_inventory_job(ctx["redis"], job_id, f":sweep{int(time.time())}")
    return len(lost)
