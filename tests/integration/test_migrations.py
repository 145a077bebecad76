"""Migrations meet data written before them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.domain.webhook_endpoint import WebhookEndpoint
from risiti.embedded import database_url_for
from risiti.eventstore.database import create_database, drop_database
from risiti.eventstore.mapper import create_mapper
from risiti.eventstore.migrations import migrate
from risiti.eventstore.recorder import append_events
from risiti.queries.webhook_endpoints import list_webhook_endpoints


@pytest.fixture
async def database_at_0007(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A fresh database migrated only up to 0007."""
    assert settings.database_url is not None
    name = f"risiti_migration_{secrets.token_hex(4)}"
    await create_database(settings.database_url, name)
    url = database_url_for(settings.database_url, name)
    conn = await asyncpg.connect(url)
    await migrate(conn, up_to=7)
    await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=3)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()
        await drop_database(settings.database_url, name)


async def test_endpoints_registered_before_0008_are_listed_after_it(
    database_at_0007: asyncpg.Pool,
) -> None:
    pool = database_at_0007
    caller = Caller(uuid4(), False, "key_test")
    endpoint = WebhookEndpoint.register(
        account_id=caller.account_id,
        livemode=False,
        url="http://127.0.0.1:9000/hooks",
        events=["invoice.paid"],
        description="registered before 0008",
    )
    # Its events alone, as a build from before 0008 wrote them: today's `save()` would also
    # write the side tables of today's schema, which this database does not have yet.
    stored = [create_mapper().to_stored_event(e) for e in endpoint.collect_events()]
    async with pool.acquire() as conn, conn.transaction():
        await append_events(conn, stored, account_id=caller.account_id, livemode=False)

    async with pool.acquire() as conn:
        await migrate(conn)
    listed = await list_webhook_endpoints(Ledger(pool), caller, limit=10, after=None)

    assert listed.records == [
        {
            "id": str(endpoint.id),
            "object": "webhook_endpoint",
            "url": "http://127.0.0.1:9000/hooks",
            "events": ["invoice.paid"],
            "description": "registered before 0008",
            "enabled": True,
            "livemode": False,
            "created_at": endpoint.created_on.isoformat(),
            "payload_format": "risiti",  # every endpoint before 0020's formats was Risiti's
        }
    ]
