"""Scheduled housekeeping of tables that only grow: forgotten idempotency keys."""

from __future__ import annotations

from typing import Any

from risiti.eventstore.idempotency import purge_expired


async def forget_expired_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Keys are kept 24 hours (DESIGN.md §6); after that a key may be used afresh."""
    return await purge_expired(ctx["pool"])
