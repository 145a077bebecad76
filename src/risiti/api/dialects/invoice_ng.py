"""Invoice.ng's API (../shared/seeds/invoice-ng-api.txt) at `/compat/invoice-ng/v1`: the nine
paths of its document, with its fields, major units and `Paid`/`Not Paid` words, onto the same
commands and read models as `/v1` (docs/migrating.md, "Invoice.ng")."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from risiti.api.dialect import (
    Dialect,
    DialectRequest,
    MajorAmountIn,
    base_path,
    in_minor_units,
    listed_natives,
    native_of_invoice,
)
from risiti.api.envelope import parse_body, parse_query
from risiti.api.errors import ApiError
from risiti.api.invoices import creation
from risiti.api.json_responses import json_response
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import CreateInvoiceRequest, Percentage, Quantity, UpdateInvoiceRequest
from risiti.api.operation import Operation
from risiti.commands import invoices
from risiti.commands.errors import NotFoundError
from risiti.domain import calendar
from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import DRAFT, PAID, UNPAID, VOID, Invoice
from risiti.presentation.dialects import translated
from risiti.presentation.dialects.invoice_ng import (
    PAID_WORD,
    PAYMENT_METHODS,
    InvoiceNgInvoice,
    InvoiceNgItem,
    InvoiceNgPayment,
    InvoiceNgSend,
    invoice_items,
    invoice_payments,
    invoice_send_log,
)
from risiti.projections.invoice_list import InvoiceFilters
from risiti.queries import invoices as invoice_queries

BASE = base_path("invoice-ng")
CURRENCY = "NGN"
"""An invoice sent without a `currency` is in naira, as Invoice.ng's are."""
LISTED = (DRAFT, *UNPAID, PAID)
"""What `GET /invoice/all` lists: every invoice but the void ones, which a `DELETE` made."""
PaymentStatus = Literal["Paid", "Not Paid"]


class InvoiceNgItemIn(DialectRequest):
    description: str = Field(min_length=1, max_length=500)
    quantity: Quantity
    rate: MajorAmountIn = Field(description="The unit price in major units: 2500 is ₦2,500.00.")


class InvoiceNgInvoiceFields(DialectRequest):
    """The fields `POST /invoice/add` and `PUT /invoice/{id}` share, as its document lists
    them."""

    client: str = Field(
        min_length=1, max_length=100, description="The customer: Risiti's id or its external_id."
    )
    invoice_no: str = Field(
        min_length=1, max_length=64, description="The invoice's number (its document number)."
    )
    payment_status: PaymentStatus = Field(
        description="`Paid` issues it (or marks it) paid; `Not Paid` issues it unpaid."
    )
    description: str | None = Field(None, max_length=2000)
    currency: str | None = Field(None, min_length=3, max_length=3, description="Default NGN.")
    tax_rate: Percentage | None = Field(None, description="In %, on every line.")
    issue_date: date | None = None
    due_date: date | None = None
    note: str | None = Field(None, max_length=2000)

    def native_fields(self, currency: str, items: list[InvoiceNgItemIn] | None) -> dict[str, Any]:
        """The fields sent, in Risiti's words and minor units (`currency`'s)."""
        optional = ("description", "currency", "tax_rate", "issue_date", "due_date", "note")
        fields: dict[str, Any] = {"customer_id": self.client, "invoice_number": self.invoice_no}
        fields |= {name: getattr(self, name) for name in optional if name in self.model_fields_set}
        if items is not None:
            fields["items"] = [
                {
                    "description": item.description,
                    "quantity": item.quantity,
                    "unit_price": in_minor_units(item.rate, currency, f"items.{index}.rate"),
                }
                for index, item in enumerate(items)
            ]
        return fields

    @property
    def paid(self) -> bool:
        return self.payment_status == PAID_WORD


class InvoiceNgAddInvoice(InvoiceNgInvoiceFields):
    """`POST /invoice/add`: every field its document lists."""

    items: list[InvoiceNgItemIn] = Field(min_length=1, max_length=500)

    def native(self) -> CreateInvoiceRequest:
        """The same request in Risiti's words: issued now, paid if `Paid`."""
        currency = (self.currency or CURRENCY).upper()
        fields = self.native_fields(currency, self.items)
        return CreateInvoiceRequest.model_validate(fields | {"status": self._status})

    @property
    def _status(self) -> str:
        return "paid" if self.paid else "open"


class InvoiceNgEditInvoice(InvoiceNgInvoiceFields):
    """`PUT /invoice/{id}`: the invoice stated again; `items` optional, as its document says."""

    items: list[InvoiceNgItemIn] | None = Field(None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _items_not_null(self) -> InvoiceNgEditInvoice:
        if "items" in self.model_fields_set and self.items is None:
            raise InvalidFieldError(
                "items may not be null: leave it out to keep the invoice's items.", field="items"
            )
        return self

    def native(self, invoice: Invoice) -> UpdateInvoiceRequest:
        """The changes in Risiti's words; its number is the one it was issued under."""
        issued_as = invoice.document_number
        if issued_as is not None and self.invoice_no != issued_as:
            raise InvalidFieldError(
                f"invoice_no: the invoice was issued as {issued_as}, which never changes; "
                f"to number it {self.invoice_no}, delete it and add it again.",
                field="invoice_no",
            )
        currency = (self.currency or invoice.currency).upper()
        return UpdateInvoiceRequest.model_validate(self.native_fields(currency, self.items))


class InvoiceNgRecordPayment(DialectRequest):
    id: str = Field(min_length=1, max_length=200, description="The invoice's id or number.")
    payment_date: date = Field(description="The day it was paid (at 00:00 UTC).")
    amount_paid: MajorAmountIn = Field(
        description="In major units; any part of the outstanding balance."
    )
    payment_method: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="`Cash`, `Bank Transfer`, `Cheque`, `Credit Card`, `Others` (Risiti's "
        "`cash`, `bank_transfer`, `cheque`, `card`, `other`); other words are kept as written.",
    )

    @property
    def method(self) -> str:
        if self.payment_method is None:
            return "other"
        return PAYMENT_METHODS.get(self.payment_method, self.payment_method)

    @property
    def paid_at(self) -> datetime:
        return datetime.combine(self.payment_date, time.min, tzinfo=UTC)


class InvoiceNgSendInvoice(DialectRequest):
    id: str = Field(min_length=1, max_length=200, description="The invoice's id or number.")
    email: str = Field(min_length=1, max_length=320)
    phone: str | None = Field(None, min_length=1, max_length=40, description="Also by text.")


class InvoiceNgListQuery(DialectRequest):
    limit: int = Field(50, ge=1, le=100, description="Risiti's: the page size.")
    cursor: str | None = Field(
        None, description="Risiti's: the `risiti.next_cursor` of the previous page."
    )


# Responses ---------------------------------------------------------------------------------


class InvoiceNgInvoiceResponse(BaseModel):
    """`add` and `PUT`: the invoice (a one-element list, as Invoice.ng sends it) and its lines."""

    status: Literal["success"]
    invoice: list[InvoiceNgInvoice]
    items: list[InvoiceNgItem]


class InvoiceNgReadResponse(InvoiceNgInvoiceResponse):
    payments: list[InvoiceNgPayment]
    send_log: list[InvoiceNgSend]


class InvoiceNgPage(BaseModel):
    has_more: bool
    next_cursor: str | None = Field(description="Send it as `cursor` for the next page.")


class InvoiceNgList(BaseModel):
    """Newest first; void invoices (deleted through Invoice.ng) are not listed."""

    status: Literal["success"]
    data: list[InvoiceNgInvoice]
    risiti: InvoiceNgPage


class InvoiceNgMessage(BaseModel):
    status: Literal["success"]
    message: str


class InvoiceNgErrorExtras(BaseModel):
    code: str
    request_id: str
    details: list[dict[str, Any]] | None = None


class InvoiceNgError(BaseModel):
    """Invoice.ng's `status`/`message`; Risiti's code, request id and field details under
    `risiti`, the fields named as Invoice.ng names them."""

    status: Literal["error"]
    message: str
    risiti: InvoiceNgErrorExtras


# Risiti's field names in errors of the commands an Invoice.ng request is sent as, and its own.
_FIELD_NAMES = {
    "customer_id": "client",
    "invoice_number": "invoice_no",
    "status": "payment_status",
    "unit_price": "rate",
    "amount": "amount_paid",
    "method": "payment_method",
    "paid_at": "payment_date",
}


def _field(path: str) -> str:
    return ".".join(_FIELD_NAMES.get(part, part) for part in path.split("."))


def invoice_ng_error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    extras: dict[str, Any] = {"code": error.code, "request_id": request_id}
    message = error.message
    if error.details is not None:
        details = [
            detail | {"field": _field(detail["field"])} if "field" in detail else detail
            for detail in error.details
        ]
        first = error.details[0].get("field")
        if first is not None and message.startswith(f"{first}:"):
            message = f"{_field(first)}:{message.removeprefix(f'{first}:')}"
        extras["details"] = details
    return {"status": "error", "message": message, "risiti": extras}


# Handlers ----------------------------------------------------------------------------------


def _answer(request: web.Request, invoice: Invoice, *, read: bool = False) -> web.Response:
    native = native_of_invoice(request, invoice)
    body: dict[str, Any] = {
        "status": "success",
        "invoice": [translated(InvoiceNgInvoice, native)],
        "items": invoice_items(native),
    }
    if read:
        body |= {"payments": invoice_payments(native), "send_log": invoice_send_log(native)}
    return json_response(body, headers={"ETag": f'"{invoice.version}"'})


def _said(message: str) -> web.Response:
    return json_response(
        {"status": "success", "message": message}, headers={"Cache-Control": "no-store"}
    )


async def _shown(request: web.Request, id_or_number: str) -> Invoice:
    """The invoice a request names; a void one was deleted, as far as Invoice.ng knows."""
    invoice = await invoice_queries.get_invoice(ledger_for(request), request[CALLER], id_or_number)
    if invoice.status == VOID:
        raise ApiError(
            404,
            NotFoundError.code,
            f"Invoice '{id_or_number}' was deleted (Risiti keeps it void: "
            f"GET /v1/invoices/{invoice.id} reads it).",
        )
    return invoice


async def list_invoices_handler(request: web.Request) -> web.Response:
    query = parse_query(request, InvoiceNgListQuery)
    natives, page = await listed_natives(
        request,
        limit=query.limit,
        cursor=query.cursor,
        filters=InvoiceFilters(statuses=LISTED, today=calendar.today()),
    )
    data = [translated(InvoiceNgInvoice, native) for native in natives]
    paging = {"has_more": page.has_more, "next_cursor": page.next_cursor}
    return json_response({"status": "success", "data": data, "risiti": paging})


async def get_invoice(request: web.Request) -> web.Response:
    return _answer(request, await _shown(request, request.match_info["id"]), read=True)


async def add_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, InvoiceNgAddInvoice)
    command = creation(request, body.native())
    return _answer(request, await invoices.create_invoice(ledger_for(request), command))


async def edit_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, InvoiceNgEditInvoice)
    invoice = await _shown(request, request.match_info["id"])
    command = invoices.RestateInvoice(
        request[CALLER],
        invoice.id,
        changes=body.native(invoice).invoice_changes(),
        paid=body.paid,
    )
    return _answer(request, await invoices.restate_invoice(ledger_for(request), command))


async def send_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, InvoiceNgSendInvoice)
    invoice = await _shown(request, body.id)
    command = invoices.SendInvoice(request[CALLER], invoice.id, email=body.email, phone=body.phone)
    await invoices.send_invoice(ledger_for(request), command)
    return _said("Invoice was successfully sent.")


async def record_payment(request: web.Request) -> web.Response:
    body = await parse_body(request, InvoiceNgRecordPayment)
    invoice = await _shown(request, body.id)
    command = invoices.RecordPayment(
        request[CALLER],
        invoice.id,
        amount=in_minor_units(body.amount_paid, invoice.currency, "amount_paid"),
        method=body.method,
        paid_at=body.paid_at,
    )
    await invoices.record_payment(ledger_for(request), command)
    return _said("Invoice payment update was successful.")


async def _settle(request: web.Request, *, paid: bool) -> web.Response:
    """Invoice.ng marks an invoice paid or not paid by a GET; a HEAD, which crawlers and link
    checkers send, must not do it."""
    if request.method == "HEAD":
        raise web.HTTPMethodNotAllowed("HEAD", ["GET"])
    invoice = await _shown(request, request.match_info["id"])
    command = invoices.SettlePayment(request[CALLER], invoice.id, paid=paid)
    await invoices.settle_payment(ledger_for(request), command)
    return _said("Invoice update was successful.")


async def mark_paid(request: web.Request) -> web.Response:
    return await _settle(request, paid=True)


async def mark_not_paid(request: web.Request) -> web.Response:
    return await _settle(request, paid=False)


async def delete_invoice(request: web.Request) -> web.Response:
    invoice = await _shown(request, request.match_info["id"])
    command = invoices.RemoveInvoice(request[CALLER], invoice.id, reason="Deleted (Invoice.ng)")
    await invoices.remove_invoice(ledger_for(request), command)
    return _said("Invoice was successfully deleted.")


_ADD_EXAMPLE = {
    "client": "606213207287745",
    "invoice_no": "INV-01",
    "payment_status": "Not Paid",
    "description": "GSVBS Website Project",
    "currency": "NGN",
    "tax_rate": 5,
    "issue_date": "2017-06-06",
    "due_date": "2017-06-20",
    "note": "Thank you for your patronage.",
    "items": [
        {"description": "Web Development Fee", "quantity": 1, "rate": "150000"},
        {"description": "Domain Registration", "quantity": 4, "rate": "2500"},
    ],
}
_TAG = "Invoice.ng"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        f"{BASE}/invoice/all",
        "invoiceNgListInvoices",
        "List invoices, newest first (Invoice.ng); deleted (void) ones are not listed",
        _TAG,
        {200: InvoiceNgList},
        handler=list_invoices_handler,
        query=InvoiceNgListQuery,
    ),
    Operation(
        "GET",
        f"{BASE}/invoice/{{id}}",
        "invoiceNgGetInvoice",
        "Read an invoice, its lines, payments and sends, by id or number (Invoice.ng)",
        _TAG,
        {200: InvoiceNgReadResponse},
        handler=get_invoice,
        etag=True,
    ),
    Operation(
        "POST",
        f"{BASE}/invoice/add",
        "invoiceNgAddInvoice",
        "Add an invoice, issued under `invoice_no`, paid if `Paid` (Invoice.ng)",
        _TAG,
        {200: InvoiceNgInvoiceResponse},
        handler=add_invoice,
        errors=(409,),
        body=InvoiceNgAddInvoice,
        etag=True,
        example=_ADD_EXAMPLE,
    ),
    Operation(
        "PUT",
        f"{BASE}/invoice/{{id}}",
        "invoiceNgEditInvoice",
        "Edit an invoice: an amendment once issued, until money is received (Invoice.ng)",
        _TAG,
        {200: InvoiceNgInvoiceResponse},
        handler=edit_invoice,
        errors=(409,),
        body=InvoiceNgEditInvoice,
        etag=True,
        example=_ADD_EXAMPLE | {"payment_status": "Not Paid", "note": "Amended."},
    ),
    Operation(
        "POST",
        f"{BASE}/invoice/send",
        "invoiceNgSendInvoice",
        "Send an invoice by email, and by text if a phone is given (Invoice.ng)",
        _TAG,
        {200: InvoiceNgMessage},
        handler=send_invoice,
        errors=(404,),
        body=InvoiceNgSendInvoice,
    ),
    Operation(
        "POST",
        f"{BASE}/invoice/record-payment",
        "invoiceNgRecordPayment",
        "Record a payment of all or part of the outstanding balance (Invoice.ng)",
        _TAG,
        {200: InvoiceNgMessage},
        handler=record_payment,
        errors=(404,),
        body=InvoiceNgRecordPayment,
    ),
    Operation(
        "GET",
        f"{BASE}/invoice/paid/{{id}}",
        "invoiceNgMarkPaid",
        "Mark an invoice paid: its balance recorded as paid; again, no change (Invoice.ng)",
        _TAG,
        {200: InvoiceNgMessage},
        handler=mark_paid,
        errors=(409,),
    ),
    Operation(
        "GET",
        f"{BASE}/invoice/not-paid/{{id}}",
        "invoiceNgMarkNotPaid",
        "Mark an invoice not paid: every payment reversed; with none, no change (Invoice.ng)",
        _TAG,
        {200: InvoiceNgMessage},
        handler=mark_not_paid,
        errors=(409,),
    ),
    Operation(
        "DELETE",
        f"{BASE}/invoice/{{id}}",
        "invoiceNgDeleteInvoice",
        "Delete an invoice: issued and unpaid, voided (its number stays used) (Invoice.ng)",
        _TAG,
        {200: InvoiceNgMessage},
        handler=delete_invoice,
        errors=(409,),
    ),
)

DIALECT = Dialect(
    name="invoice-ng",
    title="Invoice.ng",
    description="Invoice.ng's API as its document describes it: amounts in major units "
    "(naira, unless `currency` says otherwise), payment status `Paid` or `Not Paid` (every "
    "invoice not fully paid, partly paid included). Risiti's additions are under `risiti`.",
    operations=OPERATIONS,
    error_body=invoice_ng_error_body,
    error_model=InvoiceNgError,
)
