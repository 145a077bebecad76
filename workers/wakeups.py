"""Redis only carries wake-ups (DESIGN.md §8): what a lost Redis raises, which every enqueue
catches, leaving the sweepers to enqueue again what PostgreSQL still holds."""

from __future__ import annotations

from redis.exceptions import RedisError

# redis-py's own errors are not OSErrors.
REDIS_DOWN = (OSError, RedisError, TimeoutError)
