"""Liveness, readiness and metrics: whether the process can take traffic, how far each
follower of the log (projections, dispatcher) is behind, and how many aggregates each has
parked (eventstore/parked.py); /metrics is made by src/risiti/metrics.py."""

from __future__ import annotations

from dataclasses import asdict

import asyncpg
from aiohttp import web

from risiti.api.envelope import ok
from risiti.api.errors import ApiError
from risiti.api.keys import LEDGER
from risiti.eventstore.parked import ParkedCount, parked_counts
from risiti.eventstore.subscription import FollowerLag, follower_lags, horizon_age_seconds
from risiti.metrics import (
    exposition,
    follower_readings,
    metrics_response,
    webhook_backlog_readings,
)


async def healthz(_: web.Request) -> web.Response:
    """The process is up."""
    return ok({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The database answers and is migrated: the process can take traffic. The followers' lag
    and parked aggregates are reported, not judged: a lagging read model makes lists stale, and
    a parked aggregate is one document missing from them, not the API unusable for the rest."""
    pool = request.app[LEDGER].pool
    try:
        migrated = await pool.fetchval("SELECT count(*) FROM schema_migrations")
        lags, horizon_age = await _lags(pool)
        parked = await parked_counts(pool)
    except OSError as error:
        raise ApiError(
            503, "service_unavailable", f"The database is unreachable: {error}"
        ) from None
    return ok(
        {
            "status": "ready",
            "migrations": migrated,
            "followers": [_follower(lag, parked) for lag in lags],
            "xid_horizon_age_seconds": horizon_age,
        }
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format (docs/operations.md, "Metrics"): this api's requests (all its
    processes' with --processes), and the followers' and webhooks' state in the database."""
    body = await exposition(request.app[LEDGER].pool, follower_readings, webhook_backlog_readings)
    return metrics_response(body)


def _parked(lag: FollowerLag, parked: dict[str, ParkedCount]) -> ParkedCount:
    return parked.get(lag.follower, ParkedCount(lag.follower, 0, 0))


def _follower(lag: FollowerLag, parked: dict[str, ParkedCount]) -> dict[str, object]:
    count = _parked(lag, parked)
    return {**asdict(lag), "parked_aggregates": count.aggregates, "parked_events": count.events}


async def _lags(pool: asyncpg.Pool) -> tuple[list[FollowerLag], float]:
    return await follower_lags(pool), await horizon_age_seconds(pool)
