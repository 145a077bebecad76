"""Balances and aging: what customers owe, per currency (read from the balances projection)."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from risiti.api.envelope import ok, parse_query
from risiti.api.keys import CALLER, LEDGER, ledger_for
from risiti.api.models import AgingQuery
from risiti.domain import calendar
from risiti.domain.invoice import AGING_BUCKETS
from risiti.projections.balances import read_aging, read_balances
from risiti.queries.customers import get_customer


async def account_balances(request: web.Request) -> web.Response:
    caller = request[CALLER]
    balances = await read_balances(
        request.app[LEDGER].pool,
        caller.account_id,
        caller.livemode,
        customer_id=None,
        today=calendar.today(),
    )
    return ok({"object": "balance", "balances": [asdict(b) for b in balances]})


async def customer_balance(request: web.Request) -> web.Response:
    caller = request[CALLER]
    customer = await get_customer(ledger_for(request), caller, request.match_info["id"])
    customer_id = customer.id
    balances = await read_balances(
        request.app[LEDGER].pool,
        caller.account_id,
        caller.livemode,
        customer_id=customer_id,
        today=calendar.today(),
    )
    return ok(
        {
            "object": "customer_balance",
            "customer_id": str(customer_id),
            "balances": [asdict(b) for b in balances],
        }
    )


async def aging(request: web.Request) -> web.Response:
    query = parse_query(request, AgingQuery)
    caller = request[CALLER]
    as_of = query.as_of or calendar.today()
    by_currency = await read_aging(
        request.app[LEDGER].pool, caller.account_id, caller.livemode, as_of
    )
    return ok(
        {
            "object": "aging_report",
            "as_of": as_of.isoformat(),
            "buckets": list(AGING_BUCKETS),
            "currencies": [
                {"currency": currency, **buckets, "total": sum(buckets.values())}
                for currency, buckets in by_currency.items()
            ],
        }
    )
