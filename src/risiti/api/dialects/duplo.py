"""Duplo's API (../shared/seeds/duplo-create-invoice.txt) at `/compat/duplo/v1`: create an
invoice and read one, with Duplo's fields, amounts in major units as numeric strings, its
status words and its `data`/`errors`/`message` envelope, onto the same commands as `/v1`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from risiti.api.dialect import (
    Dialect,
    DialectRequest,
    MajorAmountIn,
    base_path,
    in_minor_units,
    native_of_invoice,
)
from risiti.api.envelope import parse_body
from risiti.api.errors import ApiError
from risiti.api.invoices import creation
from risiti.api.json_responses import json_response
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import CreateInvoiceRequest, Day, Percentage, Quantity
from risiti.api.operation import Operation
from risiti.commands import invoices
from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import Invoice
from risiti.presentation.dialects import translated
from risiti.presentation.dialects.duplo import BUSINESS_ID, DuploInvoice, duplo_source
from risiti.queries import customers as customer_queries
from risiti.queries import invoices as invoice_queries

BASE = base_path("duplo")
CURRENCY = "NGN"
"""Duplo's document names no currency: its businesses bill in naira."""
SUCCESS = "Request successful"
"""Duplo's `message` of every answer that worked."""


class DuploItem(DialectRequest):
    name: str = Field(min_length=1, max_length=500)
    quantity: Quantity = Field(description='A number or numeric string: `"50"`.')
    unit_price: MajorAmountIn = Field(description='In naira: `"100"` is ₦100.00.')


class DuploDiscount(DialectRequest):
    type: Literal["amount", "percentage"]
    value: MajorAmountIn = Field(
        description="`amount`: naira off the subtotal, spread over the lines; `percentage`: "
        "percent off every line (at most 100)."
    )

    def native(self) -> dict[str, Any]:
        """The discount in Risiti's terms: an amount in kobo, or the percentage as it is (the
        domain bounds it, naming `discount`)."""
        if self.type == "amount":
            return {
                "type": "amount",
                "value": in_minor_units(self.value, CURRENCY, "discount.value"),
            }
        return {"type": "percentage", "value": self.value}


class DuploTax(DialectRequest):
    type: Literal["percentage"] = Field(description="Duplo documents only percentage taxes.")
    value: Percentage = Field(description="Percent, added to every line after the discount.")
    description: str | None = Field(
        None, min_length=1, max_length=200, description="The tax's name on the invoice."
    )


class DuploCreateInvoice(DialectRequest):
    """Duplo's create request, every field it documents."""

    business_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Duplo's id of the business; the API key names it to Risiti. Kept in the "
        f"invoice's metadata (`{BUSINESS_ID}`) and answered back as `business_id`.",
    )
    recipient_ref: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The customer: its Risiti id or its external_id (Duplo's `cus_…`).",
    )
    recipient: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="What Duplo's sample request sends for `recipient_ref`; one of the two.",
    )
    due_date: Day = Field(description="`YYYY-MM-DD`, or a timestamp whose date is taken.")
    items: list[DuploItem] = Field(min_length=1, max_length=500)
    shipping_fee: MajorAmountIn = Field(Decimal(0), description="In naira, not taxed.")
    discount: DuploDiscount | None = None
    tax: DuploTax | None = None
    note: str | None = Field(None, max_length=2000)
    status: Literal["invoice", "draft"] = Field(
        "invoice", description="`invoice` issues it now; `draft` keeps it a draft."
    )
    invoice_number: str | None = Field(
        None, min_length=1, max_length=64, description="Its number, instead of the series'."
    )

    @model_validator(mode="after")
    def _one_recipient(self) -> DuploCreateInvoice:
        if self.recipient_ref is not None and self.recipient is not None:
            raise InvalidFieldError(
                "Send recipient_ref or recipient, not both: they name the same customer.",
                "recipient",
            )
        if self.recipient_ref is None and self.recipient is None:
            raise InvalidFieldError(
                "recipient_ref is required: the customer's id or external_id.", "recipient_ref"
            )
        return self

    @property
    def recipient_field(self) -> str:
        """The field the customer was named in, as the client wrote it (and the native request
        takes it: an unknown one is refused under this name)."""
        return "recipient" if self.recipient is not None else "recipient_ref"

    def native(self) -> CreateInvoiceRequest:
        """The same request in Risiti's words and minor units."""
        items = [
            {
                "name": item.name,
                "quantity": item.quantity,
                "unit_price": in_minor_units(
                    item.unit_price, CURRENCY, f"items.{index}.unit_price"
                ),
            }
            for index, item in enumerate(self.items)
        ]
        request: dict[str, Any] = {
            self.recipient_field: self.recipient_ref or self.recipient,
            "currency": CURRENCY,
            "due_date": self.due_date,
            "items": items,
            "shipping_fee": in_minor_units(self.shipping_fee, CURRENCY, "shipping_fee"),
            "status": self.status,
            "note": self.note,
        }
        if self.discount is not None:
            request["discount"] = self.discount.native()
        if self.tax is not None:
            request["tax"] = self.tax.model_dump()
        if self.invoice_number is not None:
            request["invoice_number"] = self.invoice_number
        if self.business_id is not None:
            request["metadata"] = {BUSINESS_ID: self.business_id}
        return CreateInvoiceRequest.model_validate(request)


# Responses ---------------------------------------------------------------------------------


class DuploInvoiceResponse(BaseModel):
    data: DuploInvoice
    errors: dict[str, str] = Field(description="Empty when the request worked.")
    message: Literal["Request successful"]


class DuploErrorExtras(BaseModel):
    code: str
    request_id: str
    details: list[dict[str, Any]] | None = None


class DuploError(BaseModel):
    """Duplo's envelope with `data` null: `errors` maps each refused field to why, `message`
    says what went wrong; Risiti's error code, request id and details are under `risiti`."""

    data: None
    errors: dict[str, str]
    message: str
    risiti: DuploErrorExtras


def duplo_error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    fields = {
        str(detail["field"]): str(detail.get("message", error.message))
        for detail in error.details or []
        if "field" in detail
    }
    extras: dict[str, Any] = {"code": error.code, "request_id": request_id}
    if error.details is not None:
        extras["details"] = error.details
    return {"data": None, "errors": fields, "message": error.message, "risiti": extras}


# Handlers ----------------------------------------------------------------------------------


async def _answer(request: web.Request, invoice: Invoice, *, status: int = 200) -> web.Response:
    native = native_of_invoice(request, invoice)
    recipient = await _recipient(request, native["customer"]["id"])
    data = translated(
        DuploInvoice, duplo_source(native, discount=invoice.discount, recipient=recipient)
    )
    headers = {"ETag": f'"{invoice.version}"'}
    if status == 201:
        headers["Location"] = f"{BASE}/merchants/invoice/{data['id']}"
    body = {"data": data, "errors": {}, "message": SUCCESS}
    return json_response(body, status=status, headers=headers)


async def _recipient(request: web.Request, customer_id: str | None) -> str | None:
    """The invoice's customer as the business' old system named it (its external_id), else
    by its Risiti id; none for a customer named inline without an email."""
    if customer_id is None:
        return None
    customer = await customer_queries.get_customer(
        ledger_for(request), request[CALLER], customer_id
    )
    return customer.external_id or customer_id


async def create_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, DuploCreateInvoice)
    command = creation(request, body.native())
    invoice = await invoices.create_invoice(ledger_for(request), command)
    return await _answer(request, invoice, status=201)


async def get_invoice(request: web.Request) -> web.Response:
    invoice = await invoice_queries.get_invoice(
        ledger_for(request), request[CALLER], request.match_info["id"]
    )
    return await _answer(request, invoice)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{BASE}/merchants/invoice",
        "duploCreateInvoice",
        "Create an invoice for a customer (Duplo); issued at once unless `status: draft`",
        "Duplo",
        {201: DuploInvoiceResponse},
        handler=create_invoice,
        errors=(409,),
        body=DuploCreateInvoice,
        etag=True,
    ),
    Operation(
        "GET",
        f"{BASE}/merchants/invoice/{{id}}",
        "duploGetInvoice",
        "Read an invoice by its id or its invoice number (Duplo)",
        "Duplo",
        {200: DuploInvoiceResponse},
        handler=get_invoice,
        etag=True,
    ),
)

DIALECT = Dialect(
    name="duplo",
    title="Duplo",
    description="Duplo's API as its document describes it: amounts in naira (major units, "
    'decimals, as numbers or numeric strings: `"100"` is ₦100.00), status words `invoice` and '
    "`draft`, answers in `{data, errors, message}`. Risiti's figures are under `data.risiti`.",
    operations=OPERATIONS,
    error_body=duplo_error_body,
    error_model=DuploError,
)
