"""Invoice endpoints: thin handlers that parse, build a command, await it, render."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from risiti.api.envelope import invoice_response, page, parse_body, parse_query, presented
from risiti.api.errors import ApiError, validation_error
from risiti.api.keys import CALLER, LEDGER
from risiti.api.models import CreateInvoiceRequest, ListInvoicesQuery, RecordPaymentRequest
from risiti.commands import invoices
from risiti.domain.invoice import InvoiceDraft
from risiti.projections.invoice_list import decode_cursor, find_invoice_cursor, list_invoices

routes = web.RouteTableDef()


@routes.post("/v1/invoices")
async def create_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateInvoiceRequest)
    caller = request[CALLER]
    draft = InvoiceDraft(
        account_id=caller.account_id,
        livemode=caller.livemode,
        document_type=body.type,
        currency=body.currency.upper(),
        customer=body.customer_fields(),
        items=[item.as_line() for item in body.items],
        issue_date=body.issue_date or datetime.now(UTC).date(),
        due_date=body.due_date,
        accept_partial_payments=body.accept_partial_payments,
        reference=body.reference,
        note=body.note,
        metadata=body.metadata,
    )
    command = invoices.CreateInvoice(
        caller, draft, finalize=body.finalize, payment_method=body.payment_method
    )
    invoice = await invoices.create_invoice(request.app[LEDGER], command)
    return invoice_response(request, invoice, status=201)


@routes.get("/v1/invoices")
async def list_invoices_handler(request: web.Request) -> web.Response:
    query = parse_query(request, ListInvoicesQuery)
    caller = request[CALLER]
    pool = request.app[LEDGER].pool
    after = None
    if query.cursor:
        try:
            after = decode_cursor(query.cursor)
        except ValueError:
            raise validation_error(
                [{"field": "cursor", "message": "not a cursor we issued"}]
            ) from None
    elif query.starting_after:
        after = await find_invoice_cursor(
            pool, caller.account_id, caller.livemode, query.starting_after
        )
        if after is None:
            raise ApiError(404, "not_found", f"No invoice with id '{query.starting_after}'.")
    result = await list_invoices(
        pool,
        caller.account_id,
        caller.livemode,
        limit=query.limit,
        status=query.status,
        after=after,
    )
    return page(
        [presented(request, record) for record in result.records],
        has_more=result.has_more,
        next_cursor=result.next_cursor,
    )


@routes.get("/v1/invoices/{id}")
async def get_invoice(request: web.Request) -> web.Response:
    invoice = await invoices.get_invoice(
        request.app[LEDGER], request[CALLER], request.match_info["id"]
    )
    return invoice_response(request, invoice)


@routes.post("/v1/invoices/{id}/payments")
async def record_payment(request: web.Request) -> web.Response:
    body = await parse_body(request, RecordPaymentRequest)
    caller = request[CALLER]
    ledger = request.app[LEDGER]
    invoice_id = await invoices.resolve_invoice_id(ledger, caller, request.match_info["id"])
    command = invoices.RecordPayment(
        caller, invoice_id, body.amount, body.method, body.reference, body.paid_at
    )
    invoice = await invoices.record_payment(ledger, command)
    return invoice_response(request, invoice, status=201)
