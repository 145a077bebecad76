"""`risiti parked`: the aggregates the followers of the log parked, and retrying them.

Wired here, beside the CLI, because a retry needs every follower's own way of applying events
(each projection's, and the dispatcher's, which also wakes the workers), as the projector is
composed (risiti.bootstrap). Listing and retrying themselves are eventstore/parked.py's.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg

from risiti.config import Settings
from risiti.eventstore.database import create_pool
from risiti.eventstore.parked import ParkedAggregate, Retried, parked_aggregates
from risiti.eventstore.subscription import retry_parked_of

if TYPE_CHECKING:
    from arq.connections import ArqRedis

Retry = Callable[[UUID | None], Awaitable[list[Retried]]]


async def list_parked(settings: Settings, follower: str | None, aggregate_id: UUID | None) -> int:
    """Print the parked aggregates, one line each; returns the exit code (always 0)."""
    pool = await create_pool(settings, "parked")
    try:
        parked = await parked_aggregates(pool, follower=follower, aggregate_id=aggregate_id)
    finally:
        await pool.close()
    if not parked:
        print("nothing parked: every follower applied every event")
        return 0
    for line in describe(parked):
        print(line)
    return 0


def describe(parked: list[ParkedAggregate]) -> list[str]:
    lines = ["follower\taggregate\taccount\tposition\tversion\tevents\tparked_at\terror"]
    for p in parked:
        lines.append(
            f"{p.follower}\t{p.originator_id}\t{p.account_id}\t{p.position}"
            f"\t{p.originator_version}\t{p.events}\t{p.parked_at.isoformat()}\t{p.error}"
        )
    return lines


async def retry_parked(settings: Settings, follower: str | None, aggregate_id: UUID | None) -> int:
    """Apply parked events again; returns 1 when some stay parked, 2 for an unknown follower."""
    from arq import create_pool as create_redis_pool
    from arq.connections import RedisSettings

    assert settings.redis_url is not None
    pool = await create_pool(settings, "parked")
    redis = await create_redis_pool(
        RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.queue_name
    )
    try:
        retries = _followers(settings, pool, redis)
        if follower is not None and follower not in retries:
            print(f"risiti parked: no follower named {follower}", file=sys.stderr)
            print(f"known followers: {', '.join(retries)}", file=sys.stderr)
            return 2
        chosen = [follower] if follower is not None else list(retries)
        outcomes = [outcome for name in chosen for outcome in await retries[name](aggregate_id)]
    finally:
        await redis.aclose()
        await pool.close()
    return _report(outcomes)


def _followers(settings: Settings, pool: asyncpg.Pool, redis: ArqRedis) -> dict[str, Retry]:
    """Each follower's name, and how to retry its parked events."""
    from risiti.bootstrap import projector_followers

    return {
        follower.name: partial(retry_parked_of, pool, follower)
        for follower in projector_followers(settings, redis)
    }


def _report(outcomes: list[Retried]) -> int:
    if not outcomes:
        print("nothing parked to retry")
        return 0
    for outcome in outcomes:
        if outcome.error is None:
            print(f"applied\t{outcome.follower}\t{outcome.originator_id}\t{outcome.events} events")
        else:
            print(f"still parked\t{outcome.follower}\t{outcome.originator_id}\t{outcome.error}")
    still = sum(outcome.error is not None for outcome in outcomes)
    print(f"{len(outcomes) - still} aggregate(s) applied, {still} still parked")
    return 1 if still else 0
