"""ARQ jobs: deliver one webhook attempt, and sweep up deliveries whose wake-up was lost.

A delivery row in PostgreSQL is the truth; a job first claims its row, so a job that runs twice
(ARQ may run one more than once) or a sweep that races a worker sends at most one attempt.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
from arq.connections import ArqRedis

from risiti.commands.ledger import Ledger
from risiti.commands.webhook_endpoints import disable_gone_endpoint
from risiti.config import Settings
from risiti.eventstore.lookups import current_webhook_secrets
from risiti.workers.receivers import Receivers, RefusedReceiverError
from risiti.workers.schedule import next_delay
from risiti.workers.signing import signature_header

log = logging.getLogger(__name__)

# A claim outlives ARQ's job timeout, so a crashed worker's delivery is retried after it lapses.
CLAIM_SECONDS = 60
EXCERPT_CHARS = 500


async def enqueue_delivery(
    redis: ArqRedis, delivery_id: UUID, attempt: int, suffix: str = ""
) -> None:
    """Wake a worker for a delivery; if Redis is unreachable the sweeper will do it later."""
    try:
        await redis.enqueue_job(
            "deliver_webhook", str(delivery_id), _job_id=f"delivery:{delivery_id}:{attempt}{suffix}"
        )
    except (OSError, ConnectionError, TimeoutError) as error:
        log.warning("could not enqueue delivery %s: %s", delivery_id, error)


@dataclass(frozen=True)
class ClaimedDelivery:
    id: UUID
    endpoint_id: UUID
    url: str
    livemode: bool
    payload: str
    attempts: int


async def claim_delivery(pool: asyncpg.Pool, delivery_id: UUID) -> ClaimedDelivery | None:
    """Take a due, unclaimed, pending delivery for one attempt; None if there is nothing to do."""
    row = await pool.fetchrow(
        "UPDATE webhook_deliveries d SET attempts = d.attempts + 1,"
        f" claimed_until = now() + interval '{CLAIM_SECONDS} seconds', updated_at = now()"
        " FROM webhook_endpoints e"
        " WHERE d.id = $1 AND e.id = d.endpoint_id AND d.status = 'pending'"
        " AND d.next_attempt_at <= now() AND (d.claimed_until IS NULL OR d.claimed_until < now())"
        " RETURNING d.id, d.endpoint_id, e.url, d.livemode, d.payload, d.attempts",
        delivery_id,
    )
    return ClaimedDelivery(**row) if row else None


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
    receivers: Receivers, delivery: ClaimedDelivery, secrets: list[str], time_limit: float
) -> AttemptResult:
    """POST the payload with Standard Webhooks headers; redirects count as failures, and so does
    a receiver at an address webhooks may not go to."""
    message_id = _message_id(delivery.payload)
    timestamp = int(time.time())
    body = delivery.payload.encode()
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, message_id, timestamp, body),
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
                _retry_after(response),
            )
    except (aiohttp.ClientError, TimeoutError, RefusedReceiverError) as error:
        return AttemptResult(None, _ms_since(started), None, repr(error)[:EXCERPT_CHARS], None)


def _message_id(payload: str) -> str:
    message_id: str = json.loads(payload)["id"]
    return message_id


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    if response.status not in (429, 503):
        return None
    with contextlib.suppress(KeyError, ValueError):
        return float(response.headers["Retry-After"])
    return None


async def record_attempt(
    pool: asyncpg.Pool, settings: Settings, delivery: ClaimedDelivery, result: AttemptResult
) -> float | None:
    """Log the attempt and settle the delivery; returns the delay before the next attempt."""
    delay = (
        None
        if result.succeeded or result.status_code == 410
        else _delay(settings, delivery, result)
    )
    status = "succeeded" if result.succeeded else ("pending" if delay is not None else "failed")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms,"
            " response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT DO NOTHING",
            delivery.id,
            delivery.attempts,
            result.status_code,
            result.latency_ms,
            result.excerpt,
            result.error,
        )
        await conn.execute(
            "UPDATE webhook_deliveries SET status = $2, claimed_until = NULL, updated_at = now(),"
            " next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
            delivery.id,
            status,
            delay or 0.0,
        )
        if result.status_code == 410:
            # 410 Gone: the receiver says this endpoint no longer exists. The dispatcher's copy
            # stops new deliveries at once; the endpoint itself is disabled just after.
            await conn.execute(
                "UPDATE webhook_endpoints SET enabled = false WHERE id = $1", delivery.endpoint_id
            )
    if result.status_code == 410:
        await disable_gone_endpoint(Ledger(pool, actor="job:deliver_webhook"), delivery.endpoint_id)
    return delay


def _delay(settings: Settings, delivery: ClaimedDelivery, result: AttemptResult) -> float | None:
    delay = next_delay(delivery.attempts, settings.webhook_retry_scale)
    if delay is not None and result.retry_after is not None:
        delay = max(delay, result.retry_after)
    return delay


async def deliver_webhook(ctx: dict[str, Any], delivery_id: str) -> None:
    """One delivery attempt of one webhook; schedules the next attempt if it failed."""
    pool: asyncpg.Pool = ctx["pool"]
    settings: Settings = ctx["settings"]
    delivery = await claim_delivery(pool, UUID(delivery_id))
    if delivery is None:
        return
    secrets = await current_webhook_secrets(pool, delivery.endpoint_id)
    result = await send_attempt(ctx["receivers"], delivery, secrets, settings.webhook_timeout)
    delay = await record_attempt(pool, settings, delivery, result)
    if delay is not None:
        redis: ArqRedis = ctx["redis"]
        with contextlib.suppress(OSError, ConnectionError, TimeoutError):
            await redis.enqueue_job(
                "deliver_webhook",
                delivery_id,
                _defer_by=delay,
                _job_id=f"delivery:{delivery_id}:{delivery.attempts}",
            )


async def sweep_deliveries(ctx: dict[str, Any]) -> int:
    """Re-enqueue deliveries that are due but whose wake-up never reached a worker."""
    pool: asyncpg.Pool = ctx["pool"]
    rows = await pool.fetch(
        "SELECT id, attempts FROM webhook_deliveries WHERE status = 'pending'"
        " AND next_attempt_at <= now() - interval '2 seconds'"
        " AND (claimed_until IS NULL OR claimed_until < now()) LIMIT 1000"
    )
    for row in rows:
        await enqueue_delivery(
            ctx["redis"], row["id"], row["attempts"], f":sweep{int(time.time())}"
        )
    return len(rows)
