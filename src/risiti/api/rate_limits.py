"""Rate limits per API key (DESIGN.md §6; docs/api.md, "Rate limits").

Each key has a bucket of `RISITI_RATE_LIMIT_PER_SECOND` requests that refills at that rate: a
client may send a burst of one second's worth at once, then that many a second. The buckets
live in Redis so that every api process draws on the same one; the algorithm is throttled-py's
GCRA, a token bucket kept as one timestamp per key and updated by one Lua script on Redis's own
clock, so a request costs one round trip, answers the remaining count and the exact time until
the next request is allowed, and api processes with skewed clocks still agree.

Rate limiting protects the service; it must never take it down. If Redis does not answer within
`REDIS_TIMEOUT_SECONDS` the request is served unlimited, Redis is left alone for
`REDIS_RETRY_SECONDS`, and a warning is logged at most once every `WARNING_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from redis.exceptions import RedisError
from throttled.asyncio import RateLimiterType, RedisStore, Throttled, per_sec
from throttled.exceptions import BaseThrottledError

from risiti.api.errors import ApiError, EdgeCode, Handler
from risiti.api.keys import CALLER, SETTINGS

log = logging.getLogger(__name__)

# Bounds what Redis may add to a request; a healthy local Redis answers in well under 1 ms.
REDIS_TIMEOUT_SECONDS = 0.1
# After Redis failed, requests skip it for this long instead of each waiting for the timeout.
REDIS_RETRY_SECONDS = 1.0
WARNING_INTERVAL_SECONDS = 60.0
KEY_PREFIX = "risiti:rate_limit"


@dataclass(frozen=True)
class Allowance:
    """What a key's bucket said about one request."""

    limited: bool
    limit: int
    remaining: int
    reset_after: float
    """Seconds until the bucket is full again."""
    retry_after: float
    """Seconds until the next request is allowed; 0 when this one was."""

    def headers(self) -> dict[str, str]:
        """The IETF draft's `RateLimit-*` fields, and `Retry-After` on a refusal; whole seconds,
        rounded up, so that a client waiting that long is served."""
        fields = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_after)),
        }
        if self.limited:
            fields["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return fields


class RateLimiter:
    """The buckets of every key, in Redis, failing open."""

    def __init__(self, per_second: int, redis_url: str) -> None:
        # No socket timeouts: the one timeout in `take` bounds connecting, sending and reading
        # together, and saves redis-py a timer of its own on every read.
        self._throttle = Throttled(
            using=RateLimiterType.GCRA.value,
            quota=per_sec(per_second, burst=per_second),
            store=RedisStore(server=redis_url),
            key_prefix=KEY_PREFIX,
        )
        self._skip_redis_until = 0.0
        self._last_warning = -math.inf

    async def take(self, key_id: str) -> Allowance | None:
        """Take one request from the key's bucket; None when Redis cannot say (fail open)."""
        now = time.monotonic()
        if now < self._skip_redis_until:
            return None
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                result = await self._throttle.limit(key_id)
        except (TimeoutError, OSError, RedisError, BaseThrottledError) as error:
            self._redis_failed(now, error)
            return None
        state = result.state
        return Allowance(
            limited=result.limited,
            limit=state.limit,
            remaining=state.remaining,
            reset_after=state.reset_after,
            retry_after=state.retry_after,
        )

    def _redis_failed(self, now: float, error: BaseException) -> None:
        self._skip_redis_until = now + REDIS_RETRY_SECONDS
        if now - self._last_warning >= WARNING_INTERVAL_SECONDS:
            self._last_warning = now
            log.warning(
                "rate limits are not enforced: Redis did not answer (%s: %s); requests are"
                " served unlimited until it does",
                type(error).__name__,
                error,
            )


RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
ALLOWANCE = web.RequestKey("rate_limit_allowance", Allowance)


async def rate_limiter(app: web.Application) -> AsyncIterator[None]:
    """The app's limiter, unless `RISITI_RATE_LIMIT_PER_SECOND` is 0 or there is no Redis."""
    settings = app[SETTINGS]
    if settings.rate_limit_per_second > 0 and settings.redis_url:
        app[RATE_LIMITER] = RateLimiter(settings.rate_limit_per_second, settings.redis_url)
    yield


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a key's request once its bucket is empty. Runs after authentication, so only
    requests with a valid key are counted; public paths (docs/api.md) have no caller."""
    caller = request.get(CALLER)
    limiter = request.app.get(RATE_LIMITER)
    if caller is None or limiter is None:
        return await handler(request)
    allowance = await limiter.take(caller.key_id)
    if allowance is None:
        return await handler(request)
    request[ALLOWANCE] = allowance
    if allowance.limited:
        retry_after = allowance.headers()["Retry-After"]
        raise ApiError(
            429,
            EdgeCode.RATE_LIMITED,
            f"Too many requests: this key may make {allowance.limit} a second."
            f" Retry in {retry_after} s (the Retry-After header).",
            [{"limit": allowance.limit, "retry_after": int(retry_after)}],
        )
    return await handler(request)


async def send_rate_limit_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Put the key's `RateLimit-*` headers on its response, whatever built it: a handler, or
    the error middleware's envelope (a 429 among others)."""
    allowance = request.get(ALLOWANCE)
    if allowance is not None:
        response.headers.update(allowance.headers())
