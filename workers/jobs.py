"""ARQ jobs: deliver webhooks, an attempt each, and sweep up deliveries whose wake-up was lost.

A delivery row in PostgreSQL is the truth; a job first claims its rows, so a job that runs twice
(ARQ may run one more than once) or a sweep that races a worker sends at most one attempt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
from arq.connections import ArqRedis

from risiti.commands.ledger import Ledger
from risiti.commands.webhook_endpoints import disable_webhook_endpoint
from risiti.config import Settings
from risiti.domain.webhook_endpoint import FAILING, GONE
from risiti.eventstore.outbox import (
    Attempt,
    ClaimedDelivery,
    claim_deliveries,
    lost_deliveries,
    settle_attempt,
)
from risiti.logs import log_context
from risiti.metrics import WEBHOOK_ATTEMPT_DURATION, WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES
from risiti.workers.receivers import Receivers, RefusedReceiverError
from risiti.workers.schedule import retry_after, webhook_retry_delay
from risiti.workers.signing import signature_header
from risiti.workers.wakeups import REDIS_DOWN

log = logging.getLogger(__name__)

# Sent at once by one job: within ARQ's job timeout even if every receiver takes its 15 s.
DELIVERIES_PER_JOB = 20
EXCERPT_CHARS = 500


async def enqueue_deliveries(
    redis: ArqRedis,
    delivery_ids: Sequence[UUID],
    attempt: int = 0,
    *,
    suffix: str = "",
    defer_by: float | None = None,
) -> None:
    """Wake workers for deliveries, one job per DELIVERIES_PER_JOB of them; if Redis is
    unreachable the sweeper will do it later."""
    for start in range(0, len(delivery_ids), DELIVERIES_PER_JOB):
        chunk = delivery_ids[start : start + DELIVERIES_PER_JOB]
        try:
            await redis.enqueue_job(
                "deliver_webhooks",
                [str(delivery_id) for delivery_id in chunk],
                _job_id=f"deliveries:{chunk[0]}:{attempt}{suffix}",
                _defer_by=defer_by,
            )
        except REDIS_DOWN as error:
            log.warning("could not enqueue %d deliveries: %s", len(delivery_ids) - start, error)
            return


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None
    retry_after: float | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def send_attempt(
    receivers: Receivers, delivery: ClaimedDelivery, time_limit: float
) -> AttemptResult:
    """POST the payload with Standard Webhooks headers; redirects count as failures, and so does
    a receiver at an address webhooks may not go to."""
    message_id = delivery.message_id or _message_id(delivery.payload)
    timestamp = int(time.time())
    body = delivery.payload.encode()
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(delivery.secrets, message_id, timestamp, body),
        "user-agent": "Risiti-Webhooks/1",
    }
    started = time.monotonic()
    try:
        http = receivers.session_for(delivery.url, delivery.livemode)
        async with http.post(
            delivery.url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=time_limit),
        ) as response:
            text = await response.text(errors="replace")
            return AttemptResult(
                response.status,
                _ms_since(started),
                text[:EXCERPT_CHARS],
                None,
                retry_after(response.status, response.headers),
            )
    except (aiohttp.ClientError, TimeoutError, RefusedReceiverError) as error:
        return AttemptResult(None, _ms_since(started), None, repr(error)[:EXCERPT_CHARS], None)


def _message_id(payload: str) -> str:
    message_id: str = json.loads(payload)["id"]
    return message_id


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


async def record_attempt(
    pool: asyncpg.Pool, settings: Settings, delivery: ClaimedDelivery, result: AttemptResult
) -> float | None:
    """Log the attempt, settle the delivery and note whether its endpoint is failing (in one
    statement, `outbox.settle_attempt`); returns the delay before the next attempt. An endpoint
    that answered 410, or whose every attempt failed for `webhook_disable_after_seconds`, is
    disabled."""
    delay = (
        None
        if result.succeeded or result.status_code == 410
        else _delay(settings, delivery, result)
    )
    status = "succeeded" if result.succeeded else ("pending" if delay is not None else "failed")
    attempt = Attempt(
        result.status_code,
        result.latency_ms,
        result.excerpt,
        result.error,
        succeeded=result.succeeded,
        delivery_status=status,
        delay=delay,
    )
    failing_seconds = await settle_attempt(pool, delivery, attempt)
    # An invoice's callback is one invoice's, not an endpoint to disable: it just stops.
    gone = result.status_code == 410 and not delivery.callback
    failing_too_long = (
        not delivery.callback
        and failing_seconds is not None
        and failing_seconds >= settings.webhook_disable_after_seconds
    )
    if gone:
        # 410 Gone: the receiver says this endpoint no longer exists. The dispatcher's copy
        # stopped new deliveries above; the endpoint itself is disabled now.
        await disable_webhook_endpoint(_acting_ledger(pool), delivery.endpoint_id, GONE)
    elif failing_too_long:
        await disable_webhook_endpoint(_acting_ledger(pool), delivery.endpoint_id, FAILING)
    _observe_attempt(delivery, result, status, disabled=gone or failing_too_long)
    return delay


def _observe_attempt(
    delivery: ClaimedDelivery, result: AttemptResult, status: str, *, disabled: bool
) -> None:
    """Count the attempt and the delivery it settled, and log it (the delivery's id is bound
    by `_attempt`)."""
    if result.succeeded:
        outcome = "delivered"
    elif disabled:
        outcome = "disabled"
    else:
        outcome = "retrying" if status == "pending" else "failed"
    WEBHOOK_ATTEMPTS.labels(outcome).inc()
    WEBHOOK_ATTEMPT_DURATION.labels(outcome).observe(result.latency_ms / 1000)
    if status != "pending":
        WEBHOOK_DELIVERIES.labels("delivered" if status == "succeeded" else "failed").inc()
    log.log(
        logging.INFO if result.succeeded else logging.WARNING,
        "webhook attempt %d %s",
        delivery.attempts,
        outcome,
        extra={
            "outcome": outcome,
            "attempt": delivery.attempts,
            "status_code": result.status_code,
            "latency_ms": result.latency_ms,
            "error": result.error,
        },
    )


def _acting_ledger(pool: asyncpg.Pool) -> Ledger:
    """The ledger through which the delivery job changes an endpoint, named as its actor."""
    return Ledger(pool, actor="job:deliver_webhook")


def _delay(settings: Settings, delivery: ClaimedDelivery, result: AttemptResult) -> float | None:
    return webhook_retry_delay(
        delivery.attempts, asked=result.retry_after, scale=settings.webhook_retry_scale
    )


async def deliver_webhooks(ctx: dict[str, Any], delivery_ids: list[str]) -> int:
    """One attempt of each of these deliveries that is due, all at once (a job per delivery
    would cost more in ARQ's bookkeeping than the delivery itself); each failure gets its next
    attempt scheduled. Returns how many were attempted."""
    pool: asyncpg.Pool = ctx["pool"]
    settings: Settings = ctx["settings"]
    claimed = await claim_deliveries(
        pool, [UUID(delivery_id) for delivery_id in delivery_ids], settings.job_claim_seconds
    )
    await asyncio.gather(*(_attempt(ctx, delivery) for delivery in claimed))
    return len(claimed)


async def _attempt(ctx: dict[str, Any], delivery: ClaimedDelivery) -> None:
    settings: Settings = ctx["settings"]
    with log_context(delivery_id=str(delivery.id), endpoint_id=str(delivery.endpoint_id)):
        result = await send_attempt(ctx["receivers"], delivery, settings.webhook_timeout)
        delay = await record_attempt(ctx["pool"], settings, delivery, result)
        if delay is not None:
            await enqueue_deliveries(ctx["redis"], [delivery.id], delivery.attempts, defer_by=delay)


async def sweep_deliveries(ctx: dict[str, Any]) -> int:
    """Re-enqueue deliveries that are due but whose wake-up never reached a worker."""
    lost = await lost_deliveries(ctx["pool"])
    await enqueue_deliveries(ctx["redis"], lost, suffix=f":sweep{int(time.time())}")
    return len(lost)
