"""The external ids of customers and tax rates (table `external_ids`), each held by one of its
kind per account and mode: written with the Created event that carries it
(`commands/side_tables.py`), read to resolve a reference (`commands/references.py`)."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def claim_external_id(
    conn: asyncpg.Connection,
    account_id: UUID,
    livemode: bool,
    kind: str,
    external_id: str,
    holder_id: UUID,
) -> UUID:
    """Give the external id to `holder_id`; the id of who holds it now, another's if it was
    taken. A concurrent claim waits for the first to end, then sees its holder (an upsert's
    update reads the latest committed row, where a second statement's snapshot might not)."""
    holder: UUID = await conn.fetchval(
        "INSERT INTO external_ids (account_id, livemode, kind, external_id, holder_id)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (account_id, livemode, kind, external_id)"
        " DO UPDATE SET holder_id = external_ids.holder_id RETURNING holder_id",
        account_id,
        livemode,
        kind,
        external_id,
        holder_id,
    )
    return holder


async def find_external_id(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, kind: str, external_id: str
) -> UUID | None:
    """The id of the account and mode's `kind` (customer, tax_rate) with this external id."""
    holder: UUID | None = await conn.fetchval(
        "SELECT holder_id FROM external_ids"
        " WHERE account_id = $1 AND livemode = $2 AND kind = $3 AND external_id = $4",
        account_id,
        livemode,
        kind,
        external_id,
    )
    return holder
