"""The OpenAPI 3.1 document, `GET /v1/openapi.json`, generated from the pydantic models.

One declarative table, `OPERATIONS`, says what each endpoint takes and answers; the document is
built from it: request bodies and query parameters from the request models (validation mode),
responses from `risiti.api.schemas` (serialization mode), and the error envelope for the error
statuses. A test compares the table with the app's routes, so an endpoint without a line here
fails.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from http import HTTPStatus
from typing import Any, Literal

from aiohttp import web
from pydantic import AliasChoices, BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from risiti.api import models, schemas
from risiti.api.keys import SETTINGS

routes = web.RouteTableDef()

Method = Literal["GET", "POST", "PATCH", "DELETE"]
REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Raw:
    """A response that is not a JSON model: the hosted page, the document itself."""

    media_type: str
    schema: dict[str, Any]
    description: str


Answer = type[BaseModel] | Raw
# The `$ref` of each (model, mode) in the document's components.
Refs = dict[tuple[type[Any], str], Any]


@dataclass(frozen=True)
class Operation:
    """One endpoint. Besides `errors`, the statuses its shape implies are added when the
    document is built (see `_implied_errors`)."""

    method: Method
    path: str
    operation_id: str
    summary: str
    tag: str
    responses: dict[int, Answer]
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    if_match: bool = False
    public: bool = False
    etag: bool = False
    """The success response carries the resource's version as `ETag`."""
    links: dict[str, str] = field(default_factory=dict)
    """Link name → operationId of an operation whose `id` is this response's `data.id`."""
    example: dict[str, Any] | None = None
    """A request body that works, shown in the document (and sent first by schemathesis)."""
    form: type[BaseModel] | None = None
    """The fields of an HTML form the operation takes (application/x-www-form-urlencoded)."""


def _invoice_command(
    path: str,
    operation_id: str,
    summary: str,
    body: type[BaseModel],
    status: int = 200,
    example: dict[str, Any] | None = None,
) -> Operation:
    return Operation(
        "POST",
        f"/v1/invoices/{{id}}/{path}",
        operation_id,
        summary,
        "Invoices",
        {status: schemas.InvoiceResponse},
        errors=(409,),
        body=body,
        if_match=True,
        etag=True,
        example=example,
    )


_HTML_PAGE = Raw("text/html", {"type": "string"}, "The invoice as a web page.")
_PDF = Raw("application/pdf", {"type": "string", "contentEncoding": "binary"}, "An A4 PDF.")

_INVOICE_LINKS = {
    "GetInvoice": "getInvoice",
    "UpdateInvoice": "updateInvoice",
    "DeleteInvoice": "deleteInvoice",
    "FinalizeInvoice": "finalizeInvoice",
    "SendInvoice": "sendInvoice",
    "RecordPayment": "recordPayment",
    "MarkInvoicePaid": "markInvoicePaid",
    "MarkInvoiceUnpaid": "markInvoiceUnpaid",
    "VoidInvoice": "voidInvoice",
}

OPERATIONS: tuple[Operation, ...] = (
    # Invoices
    Operation(
        "POST",
        "/v1/invoices",
        "createInvoice",
        "Create an invoice or receipt; issued at once unless `status: draft`",
        "Invoices",
        {201: schemas.InvoiceResponse},
        errors=(412,),
        body=models.CreateInvoiceRequest,
        etag=True,
        links=_INVOICE_LINKS,
        example={
            "type": "invoice",
            "customer_name": "AfriTech Solutions",
            "customer_email": "billing@afritech.example",
            "items": [{"description": "Server migration", "quantity": 1, "unit_price": 250000}],
            "status": "unpaid",
        },
    ),
    Operation(
        "GET",
        "/v1/invoices",
        "listInvoices",
        "List invoices, newest first",
        "Invoices",
        {200: schemas.InvoiceList},
        query=models.ListInvoicesQuery,
    ),
    Operation(
        "GET",
        "/v1/invoices/{id}",
        "getInvoice",
        "Get an invoice by id or document number; with `as_of` or `version`, as it stood then",
        "Invoices",
        {200: schemas.InvoiceResponse},
        query=models.InvoiceReadQuery,
        etag=True,
    ),
    Operation(
        "GET",
        "/v1/invoices/{id}/pdf",
        "getInvoicePdf",
        "The invoice as an A4 PDF, as its customer sees it (docs/hosted.md)",
        "Invoices",
        {200: _PDF},
    ),
    Operation(
        "PATCH",
        "/v1/invoices/{id}",
        "updateInvoice",
        "Update a draft; once issued, only note, due_date, metadata and reference",
        "Invoices",
        {200: schemas.InvoiceResponse},
        errors=(409,),
        body=models.UpdateInvoiceRequest,
        if_match=True,
        etag=True,
        example={"note": "Thank you for your business."},
    ),
    Operation(
        "DELETE",
        "/v1/invoices/{id}",
        "deleteInvoice",
        "Delete a draft",
        "Invoices",
        {200: schemas.DeletedInvoiceResponse},
        errors=(409,),
        if_match=True,
    ),
    _invoice_command("finalize", "finalizeInvoice", "Issue a draft", models.ReasonRequest),
    _invoice_command(
        "send",
        "sendInvoice",
        "Send an issued invoice by email or text (queued)",
        models.SendInvoiceRequest,
        status=202,
        example={"email": "billing@afritech.example"},
    ),
    _invoice_command(
        "payments",
        "recordPayment",
        "Record a payment, whole or partial",
        models.RecordPaymentRequest,
        status=201,
        example={"amount": 100000, "method": "bank_transfer", "reference": "TRF-1042"},
    ),
    _invoice_command(
        "mark-paid", "markInvoicePaid", "Record the whole balance as paid", models.MarkPaidRequest
    ),
    _invoice_command(
        "mark-unpaid", "markInvoiceUnpaid", "Reverse every recorded payment", models.ReasonRequest
    ),
    _invoice_command(
        "void", "voidInvoice", "Void a draft or an unpaid invoice", models.ReasonRequest
    ),
    # Customers
    Operation(
        "POST",
        "/v1/customers",
        "createCustomer",
        "Create a customer",
        "Customers",
        {201: schemas.CustomerResponse},
        errors=(412,),
        body=models.CreateCustomerRequest,
        links={"GetCustomer": "getCustomer"},
        example={"name": "AfriTech Solutions", "email": "billing@afritech.example"},
    ),
    Operation(
        "GET",
        "/v1/customers",
        "listCustomers",
        "List customers, newest first",
        "Customers",
        {200: schemas.CustomerList},
        query=models.ListQuery,
    ),
    Operation(
        "GET",
        "/v1/customers/{id}",
        "getCustomer",
        "Get a customer",
        "Customers",
        {200: schemas.CustomerResponse},
    ),
    # Products
    Operation(
        "POST",
        "/v1/products",
        "createProduct",
        "Create a product; its sku is unique in the account (per mode)",
        "Products",
        {201: schemas.ProductResponse},
        errors=(412,),
        body=models.CreateProductRequest,
        etag=True,
        links={"GetProduct": "getProduct", "AdjustStock": "adjustStock"},
        example={"sku": "RICE-50KG", "name": "Rice, 50 kg bag", "unit_price": 7500000, "stock": 10},
    ),
    Operation(
        "GET",
        "/v1/products",
        "listProducts",
        "List products with their stock, newest first",
        "Products",
        {200: schemas.ProductList},
        query=models.ListQuery,
    ),
    Operation(
        "GET",
        "/v1/products/{id}",
        "getProduct",
        "Get a product",
        "Products",
        {200: schemas.ProductResponse},
        etag=True,
    ),
    Operation(
        "PATCH",
        "/v1/products/{id}",
        "updateProduct",
        "Change a product's sku, name, price, currency, threshold or tracking (not its stock)",
        "Products",
        {200: schemas.ProductResponse},
        errors=(409,),
        body=models.UpdateProductRequest,
        if_match=True,
        etag=True,
        example={"unit_price": 8000000},
    ),
    Operation(
        "POST",
        "/v1/products/{id}/adjustments",
        "adjustStock",
        "Add or remove units; once per `reference` (a repeat answers 200 and changes nothing)",
        "Products",
        {201: schemas.StockAdjustmentResponse, 200: schemas.StockAdjustmentResponse},
        errors=(409,),
        body=models.AdjustStockRequest,
        example={"delta": -2, "reason": "sold in shop", "reference": "POS-1042"},
    ),
    # Tax rates
    Operation(
        "POST",
        "/v1/tax-rates",
        "createTaxRate",
        "Create a tax rate",
        "Tax rates",
        {201: schemas.TaxRateResponse},
        errors=(412,),
        body=models.CreateTaxRateRequest,
        example={"name": "VAT", "percentage": "7.5"},
    ),
    Operation(
        "GET",
        "/v1/tax-rates",
        "listTaxRates",
        "List tax rates, newest first",
        "Tax rates",
        {200: schemas.TaxRateList},
        query=models.ListQuery,
    ),
    Operation(
        "GET",
        "/v1/tax-rates/{id}",
        "getTaxRate",
        "Get a tax rate",
        "Tax rates",
        {200: schemas.TaxRateResponse},
    ),
    # Account
    Operation(
        "GET",
        "/v1/account",
        "getAccount",
        "Get the caller's account",
        "Account",
        {200: schemas.AccountResponse},
    ),
    Operation(
        "PATCH",
        "/v1/account",
        "updateAccount",
        "Require (or stop requiring) signed requests; set this mode's Paystack secret key; "
        "allow negative stock",
        "Account",
        {200: schemas.AccountResponse},
        errors=(412,),
        body=models.UpdateAccountRequest,
    ),
    # Integrations
    Operation(
        "POST",
        "/v1/integrations/paystack/webhook",
        "paystackWebhook",
        "Paystack's webhook: a signed `charge.success` records a payment on the invoice its "
        "metadata names, once per Paystack reference",
        "Integrations",
        {200: schemas.PaystackWebhookResponse},
        errors=(401, 404, 412, 503),
        body=models.PaystackWebhookRequest,
        public=True,
    ),
    # Balances, reports and the event feed
    Operation(
        "GET",
        "/v1/balances",
        "getBalances",
        "The account's balances per currency",
        "Balances",
        {200: schemas.AccountBalancesResponse},
    ),
    Operation(
        "GET",
        "/v1/customers/{id}/balance",
        "getCustomerBalance",
        "One customer's balances per currency",
        "Balances",
        {200: schemas.CustomerBalancesResponse},
    ),
    Operation(
        "GET",
        "/v1/reports/aging",
        "getAgingReport",
        "Outstanding amounts by days past due, per currency",
        "Balances",
        {200: schemas.AgingReportResponse},
        query=models.AgingQuery,
    ),
    Operation(
        "GET",
        "/v1/events",
        "listEvents",
        "The account's events in log order, with their webhooks' payloads",
        "Events",
        {200: schemas.EventList},
        query=models.ListEventsQuery,
    ),
    # Webhook endpoints
    Operation(
        "POST",
        "/v1/webhook-endpoints",
        "createWebhookEndpoint",
        "Register a webhook endpoint; the answer shows its signing secret once",
        "Webhooks",
        {201: schemas.WebhookEndpointResponse},
        errors=(412,),
        body=models.CreateWebhookEndpointRequest,
        example={"url": "https://example.com/hooks", "events": ["invoice.paid"]},
        links={"GetWebhookEndpoint": "getWebhookEndpoint"},
    ),
    Operation(
        "GET",
        "/v1/webhook-endpoints",
        "listWebhookEndpoints",
        "List webhook endpoints, newest first (deleted ones are not listed)",
        "Webhooks",
        {200: schemas.WebhookEndpointList},
        query=models.ListQuery,
    ),
    Operation(
        "GET",
        "/v1/webhook-endpoints/{id}",
        "getWebhookEndpoint",
        "Get a webhook endpoint (never its secret)",
        "Webhooks",
        {200: schemas.WebhookEndpointViewResponse},
        etag=True,
    ),
    Operation(
        "PATCH",
        "/v1/webhook-endpoints/{id}",
        "updateWebhookEndpoint",
        "Change url, events, description or enabled; a disabled endpoint gets no new deliveries",
        "Webhooks",
        {200: schemas.WebhookEndpointViewResponse},
        errors=(409,),
        body=models.UpdateWebhookEndpointRequest,
        if_match=True,
        etag=True,
        example={"enabled": False},
    ),
    Operation(
        "DELETE",
        "/v1/webhook-endpoints/{id}",
        "deleteWebhookEndpoint",
        "Delete an endpoint: it gets no more deliveries; its history stays in the log",
        "Webhooks",
        {200: schemas.DeletedWebhookEndpointResponse},
        errors=(409,),
        if_match=True,
    ),
    Operation(
        "POST",
        "/v1/webhook-endpoints/{id}/rotate-secret",
        "rotateWebhookSecret",
        "A new signing secret, shown once; the current one signs beside it until it expires",
        "Webhooks",
        {200: schemas.WebhookSecretResponse},
        errors=(409,),
        body=models.RotateWebhookSecretRequest,
        example={"expire_current_after_seconds": 3600},
    ),
    Operation(
        "GET",
        "/v1/webhook-endpoints/{id}/deliveries",
        "listWebhookDeliveries",
        "An endpoint's deliveries, newest first, each with every attempt",
        "Webhooks",
        {200: schemas.WebhookDeliveryList},
        query=models.ListQuery,
    ),
    Operation(
        "POST",
        "/v1/webhook-endpoints/{id}/test",
        "sendTestWebhook",
        "Send the endpoint a signed `webhook_endpoint.test` event, whatever it subscribed to",
        "Webhooks",
        {202: schemas.TestWebhookDeliveryResponse},
    ),
    Operation(
        "POST",
        "/v1/webhook-endpoints/{id}/recover",
        "recoverWebhookDeliveries",
        "Send again every failed delivery of the endpoint created since a time",
        "Webhooks",
        {202: schemas.WebhookRecoveryResponse},
        query=models.RecoverQuery,
    ),
    Operation(
        "POST",
        "/v1/webhook-deliveries/{id}/retry",
        "retryWebhookDelivery",
        "Make a failed or pending delivery due now; the delivery sweeper (every 5 s) sends it",
        "Webhooks",
        {202: schemas.RetriedWebhookDeliveryResponse},
        errors=(409,),
    ),
    # Auditing (docs/auditing.md)
    Operation(
        "GET",
        "/v1/invoices/{id}/history",
        "getInvoiceHistory",
        "Every event of an invoice, oldest first: version, type, when, who, what changed",
        "Auditing",
        {200: schemas.InvoiceHistoryResponse},
    ),
    Operation(
        "GET",
        "/v1/audit/checkpoints",
        "listAuditCheckpoints",
        "The account's checkpoints of the log, oldest first: keep copies to verify against",
        "Auditing",
        {200: schemas.AuditCheckpointList},
        query=models.CheckpointsQuery,
    ),
    # Public
    Operation(
        "GET",
        "/healthz",
        "healthz",
        "Liveness: the process is up",
        "Health",
        {200: schemas.HealthResponse},
        public=True,
    ),
    Operation(
        "GET",
        "/readyz",
        "readyz",
        "Readiness: the database answers and is migrated",
        "Health",
        {200: schemas.ReadinessResponse},
        errors=(503,),
        public=True,
    ),
    Operation(
        "GET",
        "/i/{token}",
        "hostedInvoice",
        "The hosted invoice page a customer opens (docs/hosted.md)",
        "Hosted",
        {
            200: _HTML_PAGE,
            404: Raw("text/html", {"type": "string"}, "The link is not valid."),
            410: Raw("text/html", {"type": "string"}, "The invoice was deleted."),
        },
        public=True,
    ),
    Operation(
        "GET",
        "/i/{token}.pdf",
        "hostedInvoicePdf",
        "The hosted invoice as an A4 PDF (an invoice's `pdf_url`)",
        "Hosted",
        {
            200: _PDF,
            404: Raw("text/html", {"type": "string"}, "The link is not valid."),
            410: Raw("text/html", {"type": "string"}, "The invoice was deleted."),
        },
        public=True,
    ),
    Operation(
        "POST",
        "/i/{token}/pay",
        "hostedInvoicePayTest",
        "Pay a test-mode invoice's amount due from its page (an HTML form); answers 303 back to "
        "the page",
        "Hosted",
        {
            303: Raw("text/plain", {"type": "string"}, "Back to the page, which shows the result."),
            400: Raw("text/html", {"type": "string"}, "The form was incomplete."),
            403: Raw("text/html", {"type": "string"}, "A live invoice is not paid this way."),
            404: Raw("text/html", {"type": "string"}, "The link is not valid."),
        },
        public=True,
        form=models.HostedPaymentForm,
    ),
    Operation(
        "POST",
        "/i/{token}/paystack",
        "hostedInvoicePaystack",
        "Start Paystack's checkout for a live invoice's amount due; answers 303 to Paystack",
        "Hosted",
        {
            303: Raw("text/plain", {"type": "string"}, "On to Paystack's checkout."),
            403: Raw("text/html", {"type": "string"}, "No Paystack key, or no customer email."),
            404: Raw("text/html", {"type": "string"}, "The link is not valid."),
            502: Raw("text/html", {"type": "string"}, "Paystack could not be reached."),
        },
        public=True,
    ),
    Operation(
        "GET",
        "/metrics",
        "metrics",
        "Followers' lag and the xid horizon's age, in Prometheus text format",
        "Health",
        {200: Raw("text/plain", {"type": "string"}, "Prometheus metrics.")},
        public=True,
    ),
    Operation(
        "GET",
        "/v1/openapi.json",
        "openapi",
        "This document",
        "Meta",
        {200: Raw("application/json", {"type": "object"}, "The OpenAPI 3.1 document.")},
        public=True,
    ),
)

TAGS: list[dict[str, str]] = [
    {"name": "Invoices", "description": "Invoices and receipts, and what is done to them."},
    {"name": "Customers", "description": "The account's saved customers."},
    {"name": "Products", "description": "The catalogue and its stock (docs/api.md, Inventory)."},
    {"name": "Tax rates", "description": "Saved tax rates an invoice copies."},
    {"name": "Account", "description": "The caller's account and its settings."},
    {"name": "Integrations", "description": "Callbacks from payment providers."},
    {"name": "Balances", "description": "Balances and the aging report, per currency."},
    {"name": "Events", "description": "The account's public events, as webhooks carry them."},
    {"name": "Webhooks", "description": "Endpoints that receive the events, and deliveries."},
    {"name": "Auditing", "description": "The log as auditors read it (docs/auditing.md)."},
    {"name": "Health", "description": "Probes and metrics for operators."},
    {"name": "Hosted", "description": "The pages a customer opens, without a key."},
    {"name": "Meta", "description": "This document."},
]

# What each webhook says happened (DESIGN.md §7; docs/api.md, Webhook endpoints).
WEBHOOK_SUMMARIES: dict[str, str] = {
    "invoice.created": "An invoice was created, as a draft or issued at once",
    "invoice.finalized": "A draft was issued and numbered",
    "invoice.updated": "An invoice was changed, or its payments were reversed",
    "invoice.sent": "An invoice was sent on one channel (email or text)",
    "invoice.payment_recorded": "A payment was recorded on an invoice",
    "invoice.partially_paid": "A payment left part of the invoice due",
    "invoice.paid": "An invoice was paid in full",
    "invoice.overdue": "An open invoice passed its due date",
    "invoice.voided": "An invoice was voided",
    "invoice.deleted": "A draft was deleted",
    "receipt.created": "A receipt was issued, paid",
    "customer.created": "A customer was created",
    "product.stock_low": "A product's stock fell to its low-stock threshold or below",
    "product.out_of_stock": "A product's stock fell to zero or below",
    "inventory.adjusted": "A product's stock changed",
    "webhook_endpoint.disabled": "Risiti disabled this endpoint: it answered 410, or failed for "
    "days",
    "webhook_endpoint.test": "The test event `POST /v1/webhook-endpoints/{id}/test` asked for, "
    "sent whatever the endpoint subscribed to",
}

# The Standard Webhooks headers every delivery carries.
WEBHOOK_HEADERS: list[dict[str, Any]] = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The event's id (the payload's `id`): the same on every attempt.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Seconds since the Unix epoch when this attempt was signed.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per unexpired "
        "secret, space-separated; any Standard Webhooks library verifies it.",
        "schema": {"type": "string"},
    },
]

# The error responses, each the error envelope with the codes it carries.
ERRORS: dict[int, tuple[str, str]] = {
    400: (
        "InvalidJson",
        "`invalid_json`: the body is not a JSON object, or nests more than 64 deep.",
    ),
    401: (
        "Unauthorized",
        "`authentication_required`, `invalid_api_key`, `signature_required`, "
        "`invalid_signature`, `signature_replayed` or (Paystack's webhook) "
        "`paystack_not_configured`.",
    ),
    404: ("NotFound", "`not_found`: no such object for this key's account and mode."),
    409: (
        "Conflict",
        "`invalid_state` (the object's status does not allow this; `details` says what it "
        "allows), `payment_exceeds_balance`, `insufficient_stock`, `duplicate_sku`, or "
        "`idempotency_key_in_use`.",
    ),
    412: (
        "VersionConflict",
        "`version_conflict`: the object changed since the version `If-Match` names, or "
        "concurrently.",
    ),
    413: ("PayloadTooLarge", "`payload_too_large`."),
    415: (
        "UnsupportedMediaType",
        "`unsupported_media_type`: the body was not sent as `application/json`.",
    ),
    422: (
        "ValidationError",
        "`validation_error` (`details` lists `{field, message}`) or `idempotency_key_reused`.",
    ),
    429: (
        "RateLimited",
        "`rate_limited`: this key sent more requests than its rate allows; send again after "
        "`Retry-After` seconds.",
    ),
    503: ("ServiceUnavailable", "`service_unavailable`: try again soon (after `Retry-After`)."),
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Retrying with the same key and body answers the first response again.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": 'The `ETag` (version) you last read, such as `"3"`; refused with 412 if '
        "the invoice has changed since.",
        "schema": {"type": "string", "pattern": '^(\\*|(W/)?"?[0-9]+"?)$'},
    },
}

HEADERS: dict[str, dict[str, Any]] = {
    "RequestId": {
        "description": "This request's id, as in the error envelope's `request_id`.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": 'The version of the resource, such as `"3"`; send it as `If-Match`.',
        "schema": {"type": "string"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before sending again.",
        "schema": {"type": "integer", "minimum": 0},
    },
}


@routes.get("/v1/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    base_url = request.app[SETTINGS].base_url
    return web.Response(body=_document_bytes(base_url), content_type="application/json")


@cache
def _document_bytes(base_url: str | None) -> bytes:
    return json.dumps(_document(base_url)).encode()


def openapi_document(base_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every operation in `OPERATIONS` (a copy to change at will);
    served at `base_url` (Settings.base_url), the document names it in `servers`."""
    return copy.deepcopy(_document(base_url))


@cache
def _document(base_url: str | None) -> dict[str, Any]:
    components, refs = _model_schemas()
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        item = paths.setdefault(operation.path, {})
        item[operation.method.lower()] = _operation(operation, refs, components)
    servers = [] if base_url is None else [{"url": base_url, "description": "This server."}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Risiti API",
            "version": "1",
            "description": "Event-sourced invoicing. Amounts are integers in minor units. "
            "Every answer is an envelope: `{success: true, data}` or "
            "`{success: false, error: {code, message, details?, request_id}}`.",
        },
        **({"servers": servers} if servers else {}),
        "tags": TAGS,
        "paths": paths,
        "webhooks": _webhooks(refs),
        "components": {
            "schemas": components,
            "responses": {
                name: _error_response(status, description)
                for status, (name, description) in ERRORS.items()
            },
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A secret key: `sk_test_…` or `sk_live_…`.",
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }


def _model_schemas() -> tuple[dict[str, Any], Refs]:
    """The components' schemas, and the reference to each (model, mode) in them."""
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(schemas.ErrorEnvelope, "serialization")}
    wanted |= {(payload, "serialization") for payload in schemas.WEBHOOK_PAYLOADS.values()}
    for operation in OPERATIONS:
        for request_model in (operation.body, operation.form):
            if request_model is not None:
                wanted.add((request_model, "validation"))
        for answer in operation.responses.values():
            if not isinstance(answer, Raw):
                wanted.add((answer, "serialization"))
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, document = models_json_schema(ordered, ref_template=REF)
    components = _standard(document.get("$defs", {}))
    for name, rule in RULES.items():
        described = components[name].get("description", "")
        components[name]["description"] = f"{described}\n\n{rule}".strip()
    _aliases(components)
    by_model: Refs = {}
    for (model, mode), ref in refs.items():
        by_model[(model, mode)] = ref
    return components, by_model


# What the request models' validators require beyond their fields' types, said in words. As a
# top-level `anyOf` of partial schemas it was exact for validators, but client generators build
# no model of it (openapi-python-client's `create_invoice` did not import); a request that
# breaks one is answered 422 `validation_error` naming the field.
RULES: dict[str, str] = {
    "ItemIn": "A line needs a `description` (or `name`), or a `product_id` or `sku`; and a "
    "`unit_price` (or its alias `price` or `rate`) unless it names a product, whose price it "
    "then takes.",
    "CreateInvoiceRequest": "Needs a customer: `customer`, `customer_id` (or its alias "
    "`recipient_ref` or `recipient`), or `customer_name`. Every field is also accepted in "
    "camelCase (`acceptPartialPayments`), as Paycashless sends it.",
}


def _aliases(components: dict[str, Any]) -> None:
    """Each seed API's name of a field (Kredo's `qty`, Duplo's `recipient_ref`) as a property of
    its own, documented as the alias it is: the server accepts either (docs/api.md)."""
    for name, schema in components.items():
        model = getattr(models, name, None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for field_name, info in model.model_fields.items():
            if not isinstance(info.validation_alias, AliasChoices):
                continue
            canonical, *aliases = (str(choice) for choice in info.validation_alias.choices)
            assert not info.is_required(), f"{name}.{field_name}: a required field's alias"
            prop = schema["properties"][canonical]
            # No default shown: a client that sends every default would send `quantity: 1`
            # beside the `qty` its user set, and the canonical name wins.
            if "default" in prop and prop["default"] is not None:
                prop["description"] = (
                    f"{prop.get('description', '')} Default {prop['default']}.".strip()
                )
            prop.pop("default", None)
            documented = {key: value for key, value in prop.items() if key != "title"}
            for alias in aliases:
                schema["properties"][alias] = documented | {
                    "description": f"An alias of `{canonical}`; send one of the two."
                }


# Pydantic writes a constraint it cannot push into the inner schema (a field whose type has a
# `BeforeValidator`, such as `MinorUnits | None`) under its own name; JSON Schema's names:
_CONSTRAINTS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
}


# Keywords whose keys are names (of properties, of definitions), not keywords.
_NAMED = ("properties", "$defs", "patternProperties")


def _keyword(key: str) -> str:
    return _CONSTRAINTS.get(key, key)


def _named(schemas: dict[str, Any]) -> dict[str, Any]:
    return {name: _standard(schema) for name, schema in schemas.items()}


def _standard(schema: Any) -> Any:
    """`schema` with pydantic's constraint names as JSON Schema's; `decimal_places` (no JSON
    Schema equivalent) said in the description instead."""
    if isinstance(schema, list):
        return [_standard(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    fixed: dict[str, Any] = {
        _keyword(key): _named(value) if key in _NAMED else _standard(value)
        for key, value in schema.items()
    }
    places = fixed.pop("decimal_places", None)
    if places is not None:
        fixed["description"] = (
            fixed.get("description", "") + f" At most {places} decimal places."
        ).strip()
    return fixed


def _operation(
    operation: Operation,
    refs: Refs,
    components: dict[str, Any],
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": _parameters(operation, components),
        "responses": _responses(operation, refs),
    }
    if operation.public:
        spec["security"] = []
    if operation.body is not None:
        media: dict[str, Any] = {"schema": refs[(operation.body, "validation")]}
        if operation.example is not None:
            media["examples"] = {"example": {"value": operation.example}}
        spec["requestBody"] = {
            "required": _body_required(operation.body),
            "content": {"application/json": media},
        }
    if operation.form is not None:
        form = {"schema": refs[(operation.form, "validation")]}
        spec["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": form},
        }
    if not spec["parameters"]:
        del spec["parameters"]
    return spec


def _body_required(model: type[BaseModel]) -> bool:
    """Whether a body must be sent: an absent body reads as `{}`, which a model with a required
    field (a payment's `amount`) refuses, and a model of optional fields takes."""
    return any(info.is_required() for info in model.model_fields.values())


def _parameters(operation: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in _path_names(operation.path):
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": "The invoice's id or document number"
                if operation.path.startswith("/v1/invoices/")
                else f"The {name}",
                "schema": {"type": "string", "minLength": 1},
            }
        )
    if operation.query is not None:
        parameters.extend(_query_parameters(operation.query, components))
    if operation.method == "POST" and not operation.public:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if operation.if_match:
        parameters.append({"$ref": "#/components/parameters/IfMatch"})
    return parameters


def _path_names(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    """One query parameter per field of a query model; `null` means absent in a query."""
    schema = _standard(model.model_json_schema(mode="validation", ref_template=REF))
    components.update(schema.get("$defs", {}))
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _without_null(prop),
        }
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: never null, so no null branch or default."""
    if "anyOf" not in schema:
        return schema
    branches = [b for b in schema["anyOf"] if b != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf" and (k, v) != ("default", None)}
    only: dict[str, Any] = branches[0] if len(branches) == 1 else {"anyOf": branches}
    return rest | only


def _responses(operation: Operation, refs: Refs) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, answer in sorted(operation.responses.items()):
        if isinstance(answer, Raw):
            responses[str(status)] = {
                "description": answer.description,
                "content": {answer.media_type: {"schema": answer.schema}},
            }
            continue
        headers = {"Request-Id": {"$ref": "#/components/headers/RequestId"}}
        if operation.etag:
            headers["ETag"] = {"$ref": "#/components/headers/ETag"}
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "headers": headers,
            "content": {"application/json": {"schema": refs[(answer, "serialization")]}},
        }
        if operation.links:
            responses[str(status)]["links"] = _links(operation)
    for status in sorted(set(operation.errors) | _implied_errors(operation)):
        if str(status) not in responses:
            responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    return responses


def _implied_errors(operation: Operation) -> set[int]:
    """What every operation of this shape may answer: 401/429/503 behind the key,
    400/413/415/422 with a body, 422 with a query, 404 for a path id or a list's `starting_after`
    that names no object, 422/412 with If-Match, 409/422 of an Idempotency-Key on a POST."""
    implied: set[int] = set()
    if not operation.public:
        implied |= {401, 429, 503}
    if operation.body is not None:
        implied |= {400, 413, 415, 422}
    if operation.query is not None:
        implied.add(422)
        if "starting_after" in operation.query.model_fields:
            implied.add(404)
    if _path_names(operation.path) and not operation.public:
        implied.add(404)
    if operation.if_match:
        implied |= {412, 422}
    if operation.method == "POST" and not operation.public:
        implied |= {409, 422}
    return implied


def _error_response(status: int, description: str) -> dict[str, Any]:
    headers = {"Request-Id": {"$ref": "#/components/headers/RequestId"}}
    if status in (429, 503):
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorEnvelope")}}},
    }


def _webhooks(refs: Refs) -> dict[str, Any]:
    """Every event type the server sends, as the request it makes to a subscribed endpoint."""
    return {
        event_type: {
            "post": {
                "operationId": _camel_case(event_type) + "Webhook",
                "summary": WEBHOOK_SUMMARIES[event_type],
                "tags": ["Webhooks"],
                "security": [],
                "parameters": WEBHOOK_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": refs[(payload, "serialization")]}},
                },
                "responses": {
                    "2XX": {"description": "Delivered: any 2xx within 15 s."},
                    "410": {"description": "Gone: Risiti disables the endpoint."},
                    "4XX": {
                        "description": "Failed: retried on the schedule of DESIGN.md §7 "
                        "(after `Retry-After` on a 429)."
                    },
                },
            }
        }
        for event_type, payload in schemas.WEBHOOK_PAYLOADS.items()
    }


def _camel_case(event_type: str) -> str:
    first, *rest = re.split(r"[._]", event_type)
    return first + "".join(word.capitalize() for word in rest)


def _links(operation: Operation) -> dict[str, Any]:
    return {
        name: {"operationId": target, "parameters": {"id": "$response.body#/data/id"}}
        for name, target in operation.links.items()
    }
