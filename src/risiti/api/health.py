"""Liveness, readiness and metrics: whether the process can take traffic, how far each
follower of the log (projections, dispatcher) is behind, and how many aggregates each has
parked (eventstore/parked.py)."""

from __future__ import annotations

from dataclasses import asdict

import asyncpg
from aiohttp import web

from risiti.api.envelope import ok
from risiti.api.errors import ApiError
from risiti.api.keys import LEDGER
from risiti.eventstore.parked import ParkedCount, parked_counts
from risiti.eventstore.subscription import FollowerLag, follower_lags, horizon_age_seconds

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_: web.Request) -> web.Response:
    """The process is up."""
    return ok({"status": "ok"})


@routes.get("/readyz")
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


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    pool = request.app[LEDGER].pool
    lags, horizon_age = await _lags(pool)
    parked = await parked_counts(pool)
    lines = [
        "# HELP risiti_follower_lag_events Events of the log a follower has not applied yet.",
        "# TYPE risiti_follower_lag_events gauge",
        *(f'risiti_follower_lag_events{{follower="{lag.follower}"}} {lag.events}' for lag in lags),
        "# HELP risiti_follower_lag_seconds Age of the oldest event a follower has not applied.",
        "# TYPE risiti_follower_lag_seconds gauge",
        *(
            f'risiti_follower_lag_seconds{{follower="{lag.follower}"}} {lag.seconds:.3f}'
            for lag in lags
        ),
        "# HELP risiti_xid_horizon_age_seconds Age of the oldest running transaction, which"
        " holds back what followers may read.",
        "# TYPE risiti_xid_horizon_age_seconds gauge",
        f"risiti_xid_horizon_age_seconds {horizon_age:.3f}",
        "# HELP risiti_parked_aggregates Aggregates a follower could not apply and set aside"
        " (risiti parked lists them).",
        "# TYPE risiti_parked_aggregates gauge",
        *(
            f'risiti_parked_aggregates{{follower="{lag.follower}"}}'
            f" {_parked(lag, parked).aggregates}"
            for lag in lags
        ),
        "# HELP risiti_parked_events Events waiting in parked aggregates, the first included.",
        "# TYPE risiti_parked_events gauge",
        *(
            f'risiti_parked_events{{follower="{lag.follower}"}} {_parked(lag, parked).events}'
            for lag in lags
        ),
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def _parked(lag: FollowerLag, parked: dict[str, ParkedCount]) -> ParkedCount:
    return parked.get(lag.follower, ParkedCount(lag.follower, 0, 0))


def _follower(lag: FollowerLag, parked: dict[str, ParkedCount]) -> dict[str, object]:
    count = _parked(lag, parked)
    return {**asdict(lag), "parked_aggregates": count.aggregates, "parked_events": count.events}


async def _lags(pool: asyncpg.Pool) -> tuple[list[FollowerLag], float]:
    return await follower_lags(pool), await horizon_age_seconds(pool)
