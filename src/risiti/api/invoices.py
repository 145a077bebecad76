"""Invoice endpoints: thin handlers that parse, build a command, await it, render."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from uuid import UUID

from aiohttp import web

from risiti.api.envelope import (
    if_match,
    invoice_response,
    list_place,
    ok,
    page_of_json,
    parse_body,
    parse_query,
)
from risiti.api.errors import ApiError
from risiti.api.keys import CALLER, LEDGER, SETTINGS, ledger_for
from risiti.api.models import (
    CreateInvoiceRequest,
    InvoiceReadQuery,
    ListInvoicesQuery,
    MarkPaidRequest,
    ReasonRequest,
    RecordPaymentRequest,
    SendInvoiceRequest,
    UpdateInvoiceRequest,
)
from risiti.commands import invoices
from risiti.commands.caller import Caller
from risiti.commands.errors import NotFoundError
from risiti.domain import calendar
from risiti.domain.invoice import InvoiceDraft, is_past_due
from risiti.presentation.documents import present_json
from risiti.projections.invoice_list import InvoiceFilters, find_invoice_cursor, list_invoices
from risiti.queries import audit
from risiti.queries import invoices as invoice_queries


async def create_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateInvoiceRequest)
    invoice = await invoices.create_invoice(ledger_for(request), creation(request, body))
    return invoice_response(request, invoice, status=201)


def creation(request: web.Request, body: CreateInvoiceRequest) -> invoices.CreateInvoice:
    """The command a create request asks for: every edge that creates an invoice (the native
    API, each seed dialect) states its request as a `CreateInvoiceRequest` and sends this."""
    caller: Caller = request[CALLER]
    issue_date = _issue_date(body)
    fields = body.invoice_changes() | {
        "issue_date": issue_date,
        "due_date": body.due_date_or_days(issue_date),
    }
    draft = InvoiceDraft(
        account_id=caller.account_id,
        livemode=caller.livemode,
        document_type=body.type,
        currency=fields.pop("currency", "NGN"),
        customer=fields.pop("customer"),
        items=fields.pop("items"),
        **fields,
    )
    return invoices.CreateInvoice(
        caller,
        draft,
        finalize=body.finalize,
        paid=body.paid,
        payment_method=body.payment_method,
        tax_rate_ids=body.tax_rate_ids or [],
        send_email=body.send_email,
        allow_loopback_in_test=request.app[SETTINGS].webhook_allow_loopback_in_test_mode,
        reference_fields=body.reference_fields,
    )


async def list_invoices_handler(request: web.Request) -> web.Response:
    query = parse_query(request, ListInvoicesQuery)
    caller = request[CALLER]
    pool = request.app[LEDGER].pool
    place = list_place(query)
    if isinstance(place, UUID):
        row_id, place = (
            place,
            await find_invoice_cursor(pool, caller.account_id, caller.livemode, place),
        )
        if place is None:
            raise ApiError(404, NotFoundError.code, f"No invoice with id '{row_id}'.")
    filters = _filters(query)
    result = await list_invoices(
        pool,
        caller.account_id,
        caller.livemode,
        limit=query.limit,
        filters=filters,
        after=place,
        backward=query.backward,
    )
    # The day the filters chose by (`status=overdue`) is the day `overdue` is told for.
    data = present_json(
        result.invoices, base_url=request.app[SETTINGS].base_url, today=filters.today
    )
    return page_of_json(data, has_more=result.has_more, next_cursor=result.next_cursor)


def _filters(query: ListInvoicesQuery) -> InvoiceFilters:
    return InvoiceFilters(
        status=query.status,
        customer_id=query.customer_id,
        type=query.type,
        currency=query.currency.upper() if query.currency else None,
        created_gte=_instant(query.created_gte, end_of_day=False),
        created_lte=_instant(query.created_lte, end_of_day=True),
        due_gte=query.due_gte,
        due_lte=query.due_lte,
        q=query.q,
        today=calendar.today(),
    )


def _instant(value: datetime | date | None, *, end_of_day: bool) -> datetime | None:
    """A date bound stands for the whole UTC day: `created_lte=2026-04-15` includes that day."""
    if value is None or isinstance(value, datetime):
        return value
    moment = datetime.combine(value, time.max if end_of_day else time.min, tzinfo=UTC)
    return moment


async def get_invoice(request: web.Request) -> web.Response:
    query = parse_query(request, InvoiceReadQuery)
    if query.as_of is not None or query.version is not None:
        # Auditors: the invoice as it stood then, folded from its events (docs/auditing.md).
        past = await audit.invoice_at(
            ledger_for(request),
            request[CALLER],
            request.match_info["id"],
            as_of=query.as_of,
            version=query.version,
        )
        return invoice_response(request, past)
    invoice = await invoice_queries.get_invoice(
        ledger_for(request), request[CALLER], request.match_info["id"]
    )
    return invoice_response(request, invoice)


async def update_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateInvoiceRequest)
    target = await _target(request)
    command = invoices.UpdateInvoice(
        *target,
        changes=body.invoice_changes(),
        tax_rate_ids=body.tax_rate_ids,
        allow_loopback_in_test=request.app[SETTINGS].webhook_allow_loopback_in_test_mode,
        reference_fields=body.reference_fields,
    )
    invoice = await invoices.update_invoice(ledger_for(request), command)
    return invoice_response(request, invoice)


async def delete_invoice(request: web.Request) -> web.Response:
    invoice = await invoices.delete_invoice(
        ledger_for(request), invoices.DeleteInvoice(*await _target(request))
    )
    return ok({"id": str(invoice.id), "object": "invoice", "deleted": True})


async def finalize_invoice(request: web.Request) -> web.Response:
    await parse_body(request, ReasonRequest)
    command = invoices.FinalizeInvoice(*await _target(request))
    invoice = await invoices.finalize_invoice(ledger_for(request), command)
    return invoice_response(request, invoice)


async def send_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, SendInvoiceRequest)
    command = invoices.SendInvoice(*await _target(request), email=body.email, phone=body.phone)
    invoice = await invoices.send_invoice(ledger_for(request), command)
    return invoice_response(request, invoice, status=202)


async def record_payment(request: web.Request) -> web.Response:
    body = await parse_body(request, RecordPaymentRequest)
    command = invoices.RecordPayment(
        *await _target(request),
        amount=body.amount,
        method=body.method,
        reference=body.reference,
        paid_at=body.paid_at,
    )
    invoice = await invoices.record_payment(ledger_for(request), command)
    return invoice_response(request, invoice, status=201)


async def mark_paid(request: web.Request) -> web.Response:
    body = await parse_body(request, MarkPaidRequest)
    command = invoices.MarkPaid(
        *await _target(request), method=body.method, reference=body.reference, paid_at=body.paid_at
    )
    invoice = await invoices.mark_paid(ledger_for(request), command)
    return invoice_response(request, invoice)


async def mark_unpaid(request: web.Request) -> web.Response:
    body = await parse_body(request, ReasonRequest)
    command = invoices.MarkUnpaid(*await _target(request), reason=body.reason)
    invoice = await invoices.mark_unpaid(ledger_for(request), command)
    return invoice_response(request, invoice)


async def void_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, ReasonRequest)
    command = invoices.VoidInvoice(*await _target(request), reason=body.reason)
    invoice = await invoices.void_invoice(ledger_for(request), command)
    return invoice_response(request, invoice)


def _issue_date(body: CreateInvoiceRequest) -> date:
    """The issue date sent, else today; but a request with only a due date already past (Duplo's
    documented sample, an invoice imported late) is backdated to it, not refused as due before
    it was issued: the invoice then reads as overdue, which is what the client described."""
    today = calendar.today()
    if body.issue_date is not None:
        return body.issue_date
    if body.due_date is not None and is_past_due(body.due_date, today):
        return body.due_date
    return today


async def _target(request: web.Request) -> tuple[Caller, UUID, int | None]:
    """Whose invoice, which one (by id or number), and the version If-Match names: the fields
    every `InvoiceCommand` starts with."""
    caller = request[CALLER]
    invoice_id = await invoice_queries.resolve_invoice_id(
        ledger_for(request), caller, request.match_info["id"]
    )
    return caller, invoice_id, if_match(request)
