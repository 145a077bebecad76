"""Liveness, readiness and metrics: whether the process can take traffic, and how far each
follower of the log (projections, dispatcher) is behind."""

from __future__ import annotations

from dataclasses import asdict

import asyncpg
from aiohttp import web

from risiti.api.envelope import ok
from risiti.api.errors import ApiError
from risiti.api.keys import LEDGER
from risiti.eventstore.subscription import FollowerLag, follower_lags, horizon_age_seconds

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_: web.Request) -> web.Response:
    """The process is up."""
    return ok({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """The database answers and is migrated: the process can take traffic. The followers' lag
    is reported, not judged: a lagging read model makes lists stale, not the API unusable."""
    pool = request.app[LEDGER].pool
    try:
        migrated = await pool.fetchval("SELECT count(*) FROM schema_migrations")
        lags, horizon_age = await _lags(pool)
    except OSError as error:
        raise ApiError(
            503, "service_unavailable", f"The database is unreachable: {error}"
        ) from None
    return ok(
        {
            "status": "ready",
            "migrations": migrated,
            "followers": [asdict(lag) for lag in lags],
            "xid_horizon_age_seconds": horizon_age,
        }
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    lags, horizon_age = await _lags(request.app[LEDGER].pool)
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
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


async def _lags(pool: asyncpg.Pool) -> tuple[list[FollowerLag], float]:
    return await follower_lags(pool), await horizon_age_seconds(pool)
