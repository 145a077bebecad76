"""What a seed dialect is at the HTTP edge (DESIGN.md §11): a base path under `/compat/`, the
operations a seed API documents (declared like every other, so each is routed and documented
once), the envelope its errors come in, and its own OpenAPI document.

A dialect translates: its request models state the request as Risiti's own (a
`CreateInvoiceRequest`, a payment in minor units) and send the same command; its documents are
read off Risiti's invoice document (`risiti.presentation.dialects`). It never decides anything
the native API would decide differently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from risiti.api.envelope import decoded_cursor
from risiti.api.errors import ErrorBody
from risiti.api.keys import CALLER, LEDGER, SETTINGS
from risiti.api.operation import Operation
from risiti.api.request_signing import SigningForm
from risiti.domain import calendar
from risiti.domain.bounds import MAX_AMOUNT
from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import Invoice
from risiti.domain.money import minor_units
from risiti.presentation.dialects import NativeDocument, native_document
from risiti.presentation.documents import invoice_record
from risiti.projections.invoice_list import InvoiceFilters, InvoicePage, list_invoices

COMPAT = "/compat"


def base_path(name: str) -> str:
    """Where a dialect is served: `{RISITI_URL}/compat/kredo/v1` stands for Kredo's `/v1`."""
    return f"{COMPAT}/{name}/v1"


@dataclass(frozen=True)
class Dialect:
    name: str
    """Its path segment: `kredo`, `duplo`, `paycashless`, `invoice-ng`."""
    title: str
    """The seed API's own name, as its users know it."""
    description: str
    """For its OpenAPI document: what it takes and answers, and in which units."""
    operations: tuple[Operation, ...]
    error_body: ErrorBody
    error_model: type[BaseModel]
    """The schema of `error_body`'s answers, for the OpenAPI document."""
    signing: SigningForm | None = None
    """If its API signs every request (Paycashless' `Request-Signature`), the form signed;
    without one, only an account that requires signed requests signs, in the native form."""

    @property
    def base_path(self) -> str:
        return base_path(self.name)

    @property
    def openapi_path(self) -> str:
        return f"{self.base_path}/openapi.json"


class DialectRequest(BaseModel):
    """A seed API's request as its document writes it: its own field names only (no camelCase
    or other seeds' aliases), and a field it does not document is refused, naming it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _decimal(value: Any) -> Any:
    """A JSON number or numeric string as the decimal it writes: `2500.5`, `"100"`. A JSON
    fraction arrives as a float whose shortest form is the text sent for every amount within
    the bounds (at most 15 significant digits), so `str` recovers it exactly."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError("must be a number") from None
    return value


MajorAmountIn = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    Field(ge=0, allow_inf_nan=False, description="In major units (naira, not kobo)."),
]
"""An amount a seed writes in major units; `in_minor_units` converts it by the currency."""


def in_minor_units(amount: Decimal, currency: str, field: str) -> int:
    """`amount` in whole minor units, refused by its field path if it is past the bounds or has
    more decimals than the currency (`minor_units`)."""
    if amount.copy_abs() > Decimal(MAX_AMOUNT):  # before scaling: "1e999999999" stays cheap
        raise InvalidFieldError(_past_the_bound(field), field)
    minor = minor_units(amount, currency, field=field)
    if minor > MAX_AMOUNT:
        raise InvalidFieldError(_past_the_bound(field), field)
    return minor


def _past_the_bound(field: str) -> str:
    return f"{field} is more than the largest amount Risiti records, {MAX_AMOUNT} minor units."


def native_of(request: web.Request, record: dict[str, Any]) -> NativeDocument:
    """An invoice record (`invoice_record`, or a list's stored copy) as every dialect reads it:
    presented for this server, today (UTC)."""
    return native_document(record, base_url=request.app[SETTINGS].base_url, today=calendar.today())


def native_of_invoice(request: web.Request, invoice: Invoice) -> NativeDocument:
    return native_of(request, invoice_record(invoice))


async def listed_natives(
    request: web.Request, *, limit: int, cursor: str | None, filters: InvoiceFilters
) -> tuple[list[NativeDocument], InvoicePage]:
    """One page of the caller's invoice list, newest first, each as `native_of` reads it, with
    the page itself for its `has_more` and `next_cursor`."""
    caller = request[CALLER]
    page = await list_invoices(
        request.app[LEDGER].pool,
        caller.account_id,
        caller.livemode,
        limit=limit,
        filters=filters,
        after=decoded_cursor(cursor) if cursor else None,
    )
    # json.loads, not orjson's: orjson reads an integer past 64 bits (metadata may hold one) as a
    # float.
    return [native_of(request, json.loads(listed.document)) for listed in page.invoices], page
