"""Scheduled housekeeping of tables that only grow: forgotten idempotency keys, and the used
signatures of signed requests once their window has passed."""

from __future__ import annotations

from typing import Any

from risiti.eventstore import request_signatures
from risiti.eventstore.idempotency import purge_expired


async def forget_expired_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Keys are kept 24 hours (DESIGN.md §6); after that a key may be used afresh."""
    return await purge_expired(ctx["pool"])


async def forget_used_request_signatures(ctx: dict[str, Any]) -> int:
    """A signature is kept only while its timestamp could still be accepted (docs/api.md,
    "Signed requests"); after that the timestamp alone refuses it. Run often, so that each
    run deletes a few minutes' rows by the seen_at index."""
    return await request_signatures.forget_expired(ctx["pool"])
