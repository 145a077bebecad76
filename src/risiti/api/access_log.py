"""The access log and the HTTP latency histogram: a line per request on `risiti.access` and an
observation of `risiti_http_request_duration_seconds` (docs/operations.md, "Logs", "Metrics").

The outermost middleware, so that it sees the response the client gets, the error envelope's
included. Every line logged while a request is handled, here or anywhere below (an unexpected
error's traceback among them), carries the request's `request_id` (the `Request-Id` the
response shows) and the `key_id` of its API key: never the key, and never the raw path, which
may hold a hosted page's token.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time

from aiohttp import web
from prometheus_client import Histogram

from risiti.api.errors import REQUEST_ID, Handler
from risiti.api.keys import CALLER
from risiti.logs import log_context
from risiti.metrics import HTTP_REQUEST_DURATION

log = logging.getLogger("risiti.access")

UNMATCHED = "unmatched"
"""The route of a request no route matched: a fixed label, so that scanners sending any path
cannot grow the number of series."""

CLIENT_CLOSED = 499
"""The status logged when the client went away before its response (nginx's convention)."""


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Time the request, then log it and count it, whatever happened to it."""
    started = time.perf_counter()
    status = 500
    with log_context(request_id=lambda: request.get(REQUEST_ID), key_id=lambda: _key_id(request)):
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as passed_on:  # redirects, let through by the error middleware
            status = passed_on.status
            raise
        except asyncio.CancelledError:
            status = CLIENT_CLOSED
            raise
        finally:
            _record(request, status, time.perf_counter() - started)


def _record(request: web.Request, status: int, seconds: float) -> None:
    route = route_template(request)
    _durations(route, request.method, status).observe(seconds)
    log.log(
        logging.ERROR if status >= 500 else logging.INFO,
        "%s %s %d",
        request.method,
        route,
        status,
        extra={
            "method": request.method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        },
    )


@functools.lru_cache(maxsize=1024)
def _durations(route: str, method: str, status: int) -> Histogram:
    """The histogram's series of a route, method and status, looked up once: `labels` checks
    its arguments and takes a lock each time."""
    return HTTP_REQUEST_DURATION.labels(route, method, str(status))


def route_template(request: web.Request) -> str:
    """The matched route as declared (`/v1/invoices/{invoice_id}`), or UNMATCHED."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def _key_id(request: web.Request) -> str | None:
    caller = request.get(CALLER)
    return caller.key_id if caller is not None else None
