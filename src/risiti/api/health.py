"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web

from risiti.api.envelope import ok
from risiti.api.errors import ApiError
from risiti.api.keys import LEDGER

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_: web.Request) -> web.Response:
    """The process is up."""
    return ok({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """The database answers and is migrated: the process can take traffic."""
    try:
        migrated = await request.app[LEDGER].pool.fetchval("SELECT count(*) FROM schema_migrations")
    except OSError as error:
        raise ApiError(
            503, "service_unavailable", f"The database is unreachable: {error}"
        ) from None
    return ok({"status": "ready", "migrations": migrated})
