"""Tax rate endpoints."""

from __future__ import annotations

from aiohttp import web

from risiti.api.envelope import list_place, ok, page, parse_body, parse_query
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import CreateTaxRateRequest, ListReferencedQuery
from risiti.commands import tax_rates
from risiti.presentation.tax_rates import tax_rate_record
from risiti.queries import tax_rates as tax_rate_queries


async def create_tax_rate(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateTaxRateRequest)
    command = tax_rates.CreateTaxRate(request[CALLER], **body.model_dump())
    tax_rate = await tax_rates.create_tax_rate(ledger_for(request), command)
    return ok(
        tax_rate_record(tax_rate),
        status=201,
        headers={"Location": f"/v1/tax-rates/{tax_rate.id}"},
    )


async def list_tax_rates(request: web.Request) -> web.Response:
    query = parse_query(request, ListReferencedQuery)
    result = await tax_rate_queries.list_tax_rates(
        ledger_for(request),
        request[CALLER],
        limit=query.limit,
        after=list_place(query),
        backward=query.backward,
        external_id=query.external_id,
    )
    return page(result.records, has_more=result.has_more, next_cursor=result.next_cursor)


async def get_tax_rate(request: web.Request) -> web.Response:
    """Where a created tax rate's `Location` points; by its id or its external_id."""
    tax_rate = await tax_rate_queries.get_tax_rate(
        ledger_for(request), request[CALLER], request.match_info["id"]
    )
    return ok(tax_rate_record(tax_rate))
