"""Kredo's API (../shared/seeds/kredo-api.txt) at `/compat/kredo/v1`: create an invoice or
receipt, list them, read one, with Kredo's fields, major units and status words, onto the
same commands and read models as `/v1`."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

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
from risiti.api.models import CreateInvoiceRequest, Quantity
from risiti.api.operation import Operation
from risiti.commands import invoices
from risiti.domain import calendar
from risiti.domain.invoice import Invoice
from risiti.presentation.dialects import translated
from risiti.presentation.dialects.kredo import KredoInvoice
from risiti.projections.invoice_list import InvoiceFilters
from risiti.queries import invoices as invoice_queries

BASE = base_path("kredo")
CURRENCY = "NGN"
"""Kredo documents no currency: its amounts are naira."""

# Kredo's status words on create, as Risiti's: `unpaid` issues it, `paid` issues it paid.
CREATE_STATUS = {"unpaid": "open", "paid": "paid", "draft": "draft"}


class KredoItem(DialectRequest):
    description: str = Field(min_length=1, max_length=500)
    qty: Quantity
    price: MajorAmountIn = Field(description="The unit price in naira: 250000 is ₦250,000.00.")


class KredoCreateInvoice(DialectRequest):
    """Kredo's create request, every field it documents."""

    type: Literal["invoice", "receipt"]
    customer_name: str = Field(min_length=1, max_length=200)
    customer_email: str | None = Field(None, max_length=320)
    items: list[KredoItem] = Field(min_length=1, max_length=500)
    status: Literal["unpaid", "paid", "draft"] = Field(
        "unpaid", description="`unpaid` issues it now, `paid` issues it paid, `draft` keeps it."
    )

    def native(self) -> CreateInvoiceRequest:
        """The same request in Risiti's words and minor units."""
        items = [
            {
                "description": item.description,
                "quantity": item.qty,
                "unit_price": in_minor_units(item.price, CURRENCY, f"items.{index}.price"),
            }
            for index, item in enumerate(self.items)
        ]
        return CreateInvoiceRequest.model_validate(
            {
                "type": self.type,
                "customer_name": self.customer_name,
                "customer_email": self.customer_email,
                "currency": CURRENCY,
                "items": items,
                "status": CREATE_STATUS[self.status],
            }
        )


class KredoListQuery(DialectRequest):
    limit: int = Field(50, ge=1, le=100)
    status: Literal["paid", "unpaid", "draft", "void"] | None = Field(
        None, description="`unpaid` lists every issued document not fully paid."
    )
    cursor: str | None = Field(
        None, description="Risiti's: the `risiti.next_cursor` of the previous page."
    )


# Responses ---------------------------------------------------------------------------------


class KredoInvoiceResponse(BaseModel):
    success: Literal[True]
    data: KredoInvoice


class KredoPage(BaseModel):
    has_more: bool
    next_cursor: str | None = Field(description="Send it as `cursor` for the next page.")


class KredoInvoiceList(BaseModel):
    """Newest first."""

    success: Literal[True]
    data: list[KredoInvoice]
    risiti: KredoPage


class KredoErrorBody(BaseModel):
    code: str
    message: str


class KredoErrorExtras(BaseModel):
    request_id: str
    details: list[dict[str, Any]] | None = None


class KredoError(BaseModel):
    """Kredo's documented error; Risiti's request id and field details under `risiti`."""

    success: Literal[False]
    error: KredoErrorBody
    risiti: KredoErrorExtras


def kredo_error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    extras: dict[str, Any] = {"request_id": request_id}
    if error.details is not None:
        extras["details"] = error.details
    return {
        "success": False,
        "error": {"code": error.code, "message": error.message},
        "risiti": extras,
    }


# Handlers ----------------------------------------------------------------------------------


def _answer(request: web.Request, invoice: Invoice, *, status: int = 200) -> web.Response:
    data = translated(KredoInvoice, native_of_invoice(request, invoice))
    headers = {"ETag": f'"{invoice.version}"'}
    if status == 201:
        headers["Location"] = f"{BASE}/invoices/{data['public_id']}"
    return json_response({"success": True, "data": data}, status=status, headers=headers)


async def create_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, KredoCreateInvoice)
    command = creation(request, body.native())
    invoice = await invoices.create_invoice(ledger_for(request), command)
    return _answer(request, invoice, status=201)


async def list_invoices_handler(request: web.Request) -> web.Response:
    query = parse_query(request, KredoListQuery)
    natives, page = await listed_natives(
        request,
        limit=query.limit,
        cursor=query.cursor,
        filters=InvoiceFilters(status=query.status, today=calendar.today()),
    )
    return json_response(
        {
            "success": True,
            "data": [translated(KredoInvoice, native) for native in natives],
            "risiti": {"has_more": page.has_more, "next_cursor": page.next_cursor},
        }
    )


async def get_invoice(request: web.Request) -> web.Response:
    invoice = await invoice_queries.get_invoice(
        ledger_for(request), request[CALLER], request.match_info["id"]
    )
    return _answer(request, invoice)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{BASE}/invoices",
        "kredoCreateInvoice",
        "Create an invoice or receipt (Kredo); issued at once unless `status: draft`",
        "Kredo",
        {201: KredoInvoiceResponse},
        handler=create_invoice,
        errors=(409,),
        body=KredoCreateInvoice,
        etag=True,
        example={
            "type": "invoice",
            "customer_name": "AfriTech Solutions",
            "customer_email": "billing@afritech.test",
            "items": [{"description": "Server Migration setup", "qty": 1, "price": 250000}],
            "status": "unpaid",
        },
    ),
    Operation(
        "GET",
        f"{BASE}/invoices",
        "kredoListInvoices",
        "List invoices and receipts, newest first (Kredo)",
        "Kredo",
        {200: KredoInvoiceList},
        handler=list_invoices_handler,
        query=KredoListQuery,
    ),
    Operation(
        "GET",
        f"{BASE}/invoices/{{id}}",
        "kredoGetInvoice",
        "Read an invoice by its public id, document number or Risiti id (Kredo)",
        "Kredo",
        {200: KredoInvoiceResponse},
        handler=get_invoice,
        etag=True,
    ),
)

DIALECT = Dialect(
    name="kredo",
    title="Kredo",
    description="Kredo's API as its document describes it: amounts in naira (major units), "
    "status words `draft`, `unpaid`, `paid`, `void`. Risiti's additions are under `risiti`.",
    operations=OPERATIONS,
    error_body=kredo_error_body,
    error_model=KredoError,
)
