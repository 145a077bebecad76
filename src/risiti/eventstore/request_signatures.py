"""Signatures of signed requests already accepted (DESIGN.md §6): each is accepted once.

Shared by every api process, and kept across restarts, because it is a table. A signature is
recorded in a statement of its own that commits before the request's command begins: inside the
command's transaction it would be a write before the aggregate is read, which takes the
transaction's id early (see the recorder's order guard); and a command that then fails leaves
the signature used, so a retry is signed afresh (docs/api.md, "Signed requests").
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

# A timestamp is accepted within 300 s either way of the api's clock, so a signature can come
# again up to 600 s after its first use; the rest is a margin for clocks that differ between
# the api hosts and PostgreSQL.
RETENTION = "15 minutes"


async def accept_once(
    conn: asyncpg.Connection | asyncpg.Pool, digest: bytes, account_id: UUID
) -> bool:
    """Record the signature as used; False if it already was (a replay)."""
    recorded = await conn.fetchval(
        "INSERT INTO request_signatures (digest, account_id) VALUES ($1, $2)"
        " ON CONFLICT (digest) DO NOTHING RETURNING true",
        digest,
        account_id,
    )
    return recorded is not None


async def forget_expired(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """Forget signatures whose window has passed (their timestamp alone refuses them now);
    returns how many."""
    status: str = await conn.execute(
        f"DELETE FROM request_signatures WHERE seen_at < now() - interval '{RETENTION}'"
    )
    return int(status.split()[-1])
