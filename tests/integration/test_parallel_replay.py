"""The replay of a long log, a process per core, builds the same read models as the live
projections (short logs, replayed in one process, are checked by the property tests)."""

from __future__ import annotations

import asyncpg

from risiti.config import Settings
from risiti.projections.replay import replay
from risiti.projections.runner import all_projections, catch_up

from .conftest import Api
from .http_calls import call


async def test_a_replay_in_processes_equals_the_live_projections(
    api: Api, settings: Settings, pool: asyncpg.Pool
) -> None:
    for number in range(12):
        created = await call(
            api,
            "POST",
            "/v1/invoices",
            {
                "customer_name": f"Customer {number % 3}",
                "customer_email": f"c{number % 3}@replay.test",
                "currency": "XOF" if number % 4 == 0 else "NGN",
                "items": [{"description": "Work", "quantity": 2, "unit_price": 5000 + number}],
                "accept_partial_payments": True,
                "status": "draft" if number % 5 == 0 else "open",
            },
        )
        invoice = created.data["id"]
        if number % 2:
            await call(api, "POST", f"/v1/invoices/{invoice}/payments", {"amount": 1000})
        if number % 5 == 0:
            await call(api, "DELETE", f"/v1/invoices/{invoice}")
    for projection in all_projections():
        await catch_up(pool, projection)

    result = await replay(
        pool, all_projections(), check=True, database_url=settings.database_url, parallel_from=0
    )

    assert result.events > 0
    assert {table: rows for table, rows in result.differences.items() if rows} == {}
