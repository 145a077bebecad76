"""The one wiring point of the HTTP API: `create_app(settings)`; nothing happens at import."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from risiti.api.access_log import access_log_middleware
from risiti.api.auth import (
    KEY_CACHE,
    PUBLIC_PATHS,
    SIGNED_PREFIXES,
    KeyCache,
    auth_middleware,
)
from risiti.api.dialects import DIALECTS, dialect_operations
from risiti.api.envelope import json_body_middleware, no_query_middleware
from risiti.api.errors import ERROR_BODIES, error_middleware
from risiti.api.idempotency import idempotency_middleware
from risiti.api.keys import LEDGER, SETTINGS
from risiti.api.operation import route_table
from risiti.api.rate_limits import rate_limit_middleware, rate_limiter, send_rate_limit_headers
from risiti.api.responses import compress_large_json, name_the_server
from risiti.api.routes import OPERATIONS
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.eventstore.database import create_pool


def create_app(settings: Settings) -> web.Application:
    """The aiohttp application; its database pool opens on startup and closes on cleanup."""
    app = web.Application(
        # Bodies are checked before the idempotency fingerprint parses them.
        middlewares=[
            access_log_middleware,
            compress_large_json,
            error_middleware,
            auth_middleware,
            rate_limit_middleware,
            no_query_middleware(OPERATIONS),
            json_body_middleware,
            idempotency_middleware,
        ],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[KEY_CACHE] = KeyCache()
    app.cleanup_ctx.append(_ledger)
    app.cleanup_ctx.append(rate_limiter)
    app.on_response_prepare.append(send_rate_limit_headers)
    app.on_response_prepare.append(name_the_server)
    app[ERROR_BODIES] = tuple((dialect.base_path, dialect.error_body) for dialect in DIALECTS)
    app[SIGNED_PREFIXES] = tuple(
        (dialect.base_path, dialect.signing) for dialect in DIALECTS if dialect.signing
    )
    operations = OPERATIONS + dialect_operations()
    app[PUBLIC_PATHS] = frozenset(operation.path for operation in operations if operation.public)
    app.router.add_routes(route_table(operations))
    return app


async def _ledger(app: web.Application) -> AsyncIterator[None]:
    pool = await create_pool(app[SETTINGS], "api", stateless=True)
    app[LEDGER] = Ledger(pool)
    yield
    await pool.close()
