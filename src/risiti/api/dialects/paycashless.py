"""Paycashless' API (../shared/seeds/paycashless-create-invoice.txt) at
`/compat/paycashless/v1`: create an invoice and read it, with Paycashless' camelCase fields,
minor units (as Risiti's), status words and signed requests, onto the same commands as `/v1`.

Every request is signed as Paycashless' document says: `Request-Signature` is the hex
HMAC-SHA512, keyed with the API secret (the `sk_…` key sent as the bearer token), of the request
payload with its `Request-Timestamp`: `timestamp + "." + raw body` (docs/migrating.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import pydantic
from aiohttp import web
from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from risiti.api.dialect import Dialect, DialectRequest, base_path, native_of_invoice
from risiti.api.envelope import parse_body
from risiti.api.errors import ApiError, validation_error
from risiti.api.invoices import creation
from risiti.api.json_responses import json_response
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import (
    MAX_MINOR_UNITS,
    CreateInvoiceRequest,
    EmailAddress,
    MinorUnits,
    Quantity,
)
from risiti.api.operation import Operation
from risiti.api.request_signing import TIMESTAMP_AND_BODY
from risiti.commands import invoices
from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import Invoice
from risiti.presentation.dialects import translated
from risiti.presentation.dialects.paycashless import PaycashlessInvoice
from risiti.queries import invoices as invoice_queries

BASE = base_path("paycashless")
MAX_ITEMS = 20


class PaycashlessRequest(DialectRequest):
    """Paycashless' fields by their camelCase names only (`daysUntilDue`), as errors name them."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False)


class PaycashlessCustomer(PaycashlessRequest):
    email: EmailAddress = Field(
        min_length=1, max_length=320, description="Links the invoice to your customer with it."
    )
    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(None, max_length=500)


class PaycashlessItem(PaycashlessRequest):
    name: str = Field(min_length=1, max_length=500, description="The line's label.")
    quantity: Quantity
    description: str | None = Field(
        None,
        max_length=2000,
        description="Shown under the name on the hosted page and PDF (natively the line's "
        "`details`).",
    )
    price: MinorUnits = Field(
        ge=0, le=MAX_MINOR_UNITS, description="The unit price in kobo (cents): 100000 is ₦1,000."
    )


class PaycashlessCreateInvoice(PaycashlessRequest):
    """Paycashless' create request, every field it documents."""

    reference: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    currency: Literal["NGN", "USD"]
    customer: PaycashlessCustomer
    items: list[PaycashlessItem] = Field(min_length=1, max_length=MAX_ITEMS)
    days_until_due: int = Field(gt=0, le=1800, description="The due date is today plus this.")
    accept_partial_payments: bool = Field(
        False, description="Whether the hosted page lets the customer pay part of the balance."
    )
    send_email: bool = Field(
        False, description="Email the invoice to the customer once issued (needs autoFinalize)."
    )
    auto_finalize: bool = Field(
        False, description="Issue it now under its number; otherwise it stays a draft."
    )
    callback_url: str | None = Field(
        None,
        max_length=2000,
        description="Called with the signed `invoice.paid` payload once the invoice is paid.",
    )
    return_url: str | None = Field(
        None, max_length=2000, description="Where the hosted page sends the customer after paying."
    )
    tax_rate_ids: list[str] | None = Field(
        None,
        max_length=20,
        description="Your tax rates, each by its Risiti id or its `external_id`.",
    )
    max_installments: int = Field(
        1,
        ge=1,
        le=100,
        description="How many payments the hosted page lets the customer split the balance "
        "into, when acceptPartialPayments is true.",
    )
    metadata: dict[str, Any] | None = None

    def native(self) -> CreateInvoiceRequest:
        """The same request in Risiti's words (its amounts are minor units already)."""
        if self.send_email and not self.auto_finalize:
            raise InvalidFieldError(
                "sendEmail: a draft is not emailed. Send autoFinalize: true with it, or send the"
                " invoice once it is finalized (POST /v1/invoices/{id}/send).",
                field="sendEmail",
            )
        items = [
            {
                "description": item.name,
                "details": item.description,
                "quantity": item.quantity,
                "unit_price": item.price,
            }
            for item in self.items
        ]
        fields: dict[str, Any] = {
            "type": "invoice",
            "currency": self.currency,
            "customer": self.customer.model_dump(),
            "items": items,
            "reference": self.reference,
            "description": self.description,
            "days_until_due": self.days_until_due,
            "accept_partial_payments": self.accept_partial_payments,
            "max_installments": self.max_installments,
            "send_email": self.send_email,
            "auto_finalize": self.auto_finalize,
            "tax_rate_ids": self.tax_rate_ids or [],
            "metadata": self.metadata or {},
        }
        fields |= {
            name: value
            for name, value in (
                ("callback_url", self.callback_url),
                ("return_url", self.return_url),
            )
            if value is not None
        }
        return CreateInvoiceRequest.model_validate(fields)


# What Risiti calls an item's fields, where Paycashless' names differ by more than their case.
_ITEM_FIELDS = {"description": "name", "details": "description", "unit_price": "price"}
_SNAKE_JOINT = re.compile(r"_([a-z0-9])")


def paycashless_field(native: str) -> str:
    """A native request's field path as Paycashless writes it: `tax_rate_ids.0` is
    `taxRateIds.0`, `items.0.unit_price` is `items.0.price`."""
    parts = native.split(".")
    if len(parts) == 3 and parts[0] == "items":
        parts[2] = _ITEM_FIELDS.get(parts[2], parts[2])
    return ".".join(_SNAKE_JOINT.sub(lambda joint: joint[1].upper(), part) for part in parts)


@contextmanager
def in_paycashless_words() -> Iterator[None]:
    """Refusals of the native request and its command, naming Paycashless' fields."""
    try:
        yield
    except pydantic.ValidationError as error:
        details = [
            {
                "field": paycashless_field(".".join(str(part) for part in e["loc"]) or "body"),
                "message": e["msg"],
            }
            for e in error.errors(include_url=False)
        ]
        raise validation_error(details) from None
    except InvalidFieldError as error:
        if error.field is None:
            raise
        field = paycashless_field(error.field)
        raise InvalidFieldError(str(error).replace(error.field, field), field=field) from None


# Responses ---------------------------------------------------------------------------------


class PaycashlessErrorBody(pydantic.BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = Field(
        None, description="For a validation error, each field (camelCase path) and what is wrong."
    )
    request_id: str = Field(serialization_alias="requestId")


class PaycashlessError(pydantic.BaseModel):
    """Paycashless documents no error body; Risiti answers with this one, camelCase."""

    error: PaycashlessErrorBody


def paycashless_error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    body["requestId"] = request_id
    return {"error": body}


# Handlers ----------------------------------------------------------------------------------


def _answer(request: web.Request, invoice: Invoice, *, status: int = 200) -> web.Response:
    native = native_of_invoice(request, invoice)
    data = translated(PaycashlessInvoice, native)
    headers = {"ETag": f'"{invoice.version}"'}
    if status == 201:
        headers["Location"] = f"{BASE}/invoices/{data['id']}"
    return json_response(data, status=status, headers=headers)


async def create_invoice(request: web.Request) -> web.Response:
    body = await parse_body(request, PaycashlessCreateInvoice)
    with in_paycashless_words():
        command = creation(request, body.native())
        invoice = await invoices.create_invoice(ledger_for(request), command)
    return _answer(request, invoice, status=201)


async def get_invoice(request: web.Request) -> web.Response:
    invoice = await invoice_queries.get_invoice(
        ledger_for(request), request[CALLER], request.match_info["id"]
    )
    return _answer(request, invoice)


EXAMPLE: dict[str, Any] = {
    "reference": "ORD-456",
    "acceptPartialPayments": False,
    "description": "Order 456",
    "currency": "NGN",
    "sendEmail": False,
    "autoFinalize": True,
    "callbackUrl": "https://example.com/callback",
    "returnUrl": "https://example.com/return",
    "customer": {"email": "ada@example.com", "name": "Ada Obi", "address": "12 Marina, Lagos"},
    "items": [{"name": "Consulting", "quantity": 2, "description": "Two hours", "price": 100000}],
    "maxInstallments": 1,
    "daysUntilDue": 30,
    "metadata": {"customer_id": "123", "order_id": "456"},
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{BASE}/invoices",
        "paycashlessCreateInvoice",
        "Create an invoice (Paycashless); a draft unless `autoFinalize: true`",
        "Paycashless",
        {201: PaycashlessInvoice},
        handler=create_invoice,
        errors=(409,),
        body=PaycashlessCreateInvoice,
        etag=True,
        example=EXAMPLE,
    ),
    Operation(
        "GET",
        f"{BASE}/invoices/{{id}}",
        "paycashlessGetInvoice",
        "Read an invoice by its id or number (Paycashless)",
        "Paycashless",
        {200: PaycashlessInvoice},
        handler=get_invoice,
        etag=True,
    ),
)

DIALECT = Dialect(
    name="paycashless",
    title="Paycashless",
    description="Paycashless' API as its document describes it: camelCase, amounts in the "
    "smallest currency unit (kobo, cents), status words `draft`, `open`, `partially_paid`, "
    "`paid`, `cancelled`. Every request is signed: `Request-Signature` is the hex HMAC-SHA512, "
    "keyed with your secret key, of `Request-Timestamp + '.' + body`; the key goes as "
    "`Authorization: Bearer sk_…`. Risiti's additions are under `risiti`.",
    operations=OPERATIONS,
    error_body=paycashless_error_body,
    error_model=PaycashlessError,
    signing=TIMESTAMP_AND_BODY,
)
