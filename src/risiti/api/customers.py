"""Customer endpoints."""

from __future__ import annotations

from aiohttp import web

from risiti.api.envelope import list_place, ok, page, parse_body, parse_query
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import CreateCustomerRequest, ListReferencedQuery
from risiti.commands import customers
from risiti.presentation.customers import customer_record
from risiti.queries import customers as customer_queries


async def create_customer(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateCustomerRequest)
    command = customers.CreateCustomer(request[CALLER], **body.model_dump())
    customer = await customers.create_customer(ledger_for(request), command)
    return ok(
        customer_record(customer),
        status=201,
        headers={"Location": f"/v1/customers/{customer.id}"},
    )


async def list_customers(request: web.Request) -> web.Response:
    query = parse_query(request, ListReferencedQuery)
    result = await customer_queries.list_customers(
        ledger_for(request),
        request[CALLER],
        limit=query.limit,
        after=list_place(query),
        backward=query.backward,
        external_id=query.external_id,
    )
    return page(result.records, has_more=result.has_more, next_cursor=result.next_cursor)


async def get_customer(request: web.Request) -> web.Response:
    """By its id or its external_id."""
    customer = await customer_queries.get_customer(
        ledger_for(request), request[CALLER], request.match_info["id"]
    )
    return ok(customer_record(customer))
