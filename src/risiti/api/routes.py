"""Every endpoint of the API, declared once: `OPERATIONS` is the app's router (`create_app` adds
`route_table(OPERATIONS)`) and the source of the OpenAPI document, `GET /v1/openapi.json`.

Each `Operation` names its path, handler, request models and response models; the document is
assembled from them by `risiti.api.openapi`. This module is long because it is one table with an
entry per endpoint (as aiohttp-demos keeps every route in one `routes.py`): reading it top to
bottom is reading the API's surface, and splitting it by resource would hide that.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from risiti.api import (
    account,
    audit,
    customers,
    events,
    health,
    hosted,
    invoices,
    models,
    openapi,
    paystack,
    products,
    reports,
    schemas,
    tax_rates,
    webhook_endpoints,
)
from risiti.api.keys import SETTINGS
from risiti.api.operation import Handler, Operation, Raw


async def openapi_json(request: web.Request) -> web.Response:
    base_url = request.app[SETTINGS].base_url
    return web.Response(body=_document_bytes(base_url), content_type="application/json")


def openapi_document(base_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every operation in `OPERATIONS` (a copy to change at will);
    served at `base_url` (Settings.base_url), the document names it in `servers`."""
    return copy.deepcopy(_document(base_url))


@cache
def _document(base_url: str | None) -> dict[str, Any]:
    return openapi.document(OPERATIONS, base_url)


@cache
def _document_bytes(base_url: str | None) -> bytes:
    return json.dumps(_document(base_url)).encode()


def _invoice_command(
    handler: Handler,
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
        handler,
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
        handler=invoices.create_invoice,
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
        handler=invoices.list_invoices_handler,
        query=models.ListInvoicesQuery,
    ),
    Operation(
        "GET",
        "/v1/invoices/{id}",
        "getInvoice",
        "Get an invoice by id or document number; with `as_of` or `version`, as it stood then",
        "Invoices",
        {200: schemas.InvoiceResponse},
        handler=invoices.get_invoice,
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
        handler=hosted.invoice_pdf,
    ),
    Operation(
        "PATCH",
        "/v1/invoices/{id}",
        "updateInvoice",
        (
            "Update a draft; amend an issued invoice's figures while no money was received;"
            " once money was received, only note, due_date, metadata and reference"
        ),
        "Invoices",
        {200: schemas.InvoiceResponse},
        handler=invoices.update_invoice,
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
        handler=invoices.delete_invoice,
        errors=(409,),
        if_match=True,
    ),
    _invoice_command(
        invoices.finalize_invoice,
        "finalize",
        "finalizeInvoice",
        "Issue a draft",
        models.ReasonRequest,
    ),
    _invoice_command(
        invoices.send_invoice,
        "send",
        "sendInvoice",
        "Send an issued invoice by email or text (queued)",
        models.SendInvoiceRequest,
        status=202,
        example={"email": "billing@afritech.example"},
    ),
    _invoice_command(
        invoices.record_payment,
        "payments",
        "recordPayment",
        "Record a payment, whole or partial",
        models.RecordPaymentRequest,
        status=201,
        example={"amount": 100000, "method": "bank_transfer", "reference": "TRF-1042"},
    ),
    _invoice_command(
        invoices.mark_paid,
        "mark-paid",
        "markInvoicePaid",
        "Record the whole balance as paid",
        models.MarkPaidRequest,
    ),
    _invoice_command(
        invoices.mark_unpaid,
        "mark-unpaid",
        "markInvoiceUnpaid",
        "Reverse every recorded payment",
        models.ReasonRequest,
    ),
    _invoice_command(
        invoices.void_invoice,
        "void",
        "voidInvoice",
        "Void a draft or an unpaid invoice",
        models.ReasonRequest,
    ),
    # Customers
    Operation(
        "POST",
        "/v1/customers",
        "createCustomer",
        "Create a customer",
        "Customers",
        {201: schemas.CustomerResponse},
        handler=customers.create_customer,
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
        handler=customers.list_customers,
        query=models.ListQuery,
    ),
    Operation(
        "GET",
        "/v1/customers/{id}",
        "getCustomer",
        "Get a customer",
        "Customers",
        {200: schemas.CustomerResponse},
        handler=customers.get_customer,
    ),
    # Products
    Operation(
        "POST",
        "/v1/products",
        "createProduct",
        "Create a product; its sku is unique in the account (per mode)",
        "Products",
        {201: schemas.ProductResponse},
        handler=products.create_product,
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
        handler=products.list_products,
        query=models.ListQuery,
    ),
    Operation(
        "GET",
        "/v1/products/{id}",
        "getProduct",
        "Get a product",
        "Products",
        {200: schemas.ProductResponse},
        handler=products.get_product,
        etag=True,
    ),
    Operation(
        "PATCH",
        "/v1/products/{id}",
        "updateProduct",
        "Change a product's sku, name, price, currency, threshold or tracking (not its stock)",
        "Products",
        {200: schemas.ProductResponse},
        handler=products.update_product,
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
        handler=products.adjust_stock,
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
        handler=tax_rates.create_tax_rate,
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
        handler=tax_rates.list_tax_rates,
        query=models.ListQuery,
    ),
    Operation(
        "GET",
        "/v1/tax-rates/{id}",
        "getTaxRate",
        "Get a tax rate",
        "Tax rates",
        {200: schemas.TaxRateResponse},
        handler=tax_rates.get_tax_rate,
    ),
    # Account
    Operation(
        "GET",
        "/v1/account",
        "getAccount",
        "Get the caller's account",
        "Account",
        {200: schemas.AccountResponse},
        handler=account.get_account,
    ),
    Operation(
        "PATCH",
        "/v1/account",
        "updateAccount",
        "Require (or stop requiring) signed requests; set this mode's Paystack secret key; "
        "allow negative stock",
        "Account",
        {200: schemas.AccountResponse},
        handler=account.update_account,
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
        handler=paystack.paystack_webhook,
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
        handler=reports.account_balances,
    ),
    Operation(
        "GET",
        "/v1/customers/{id}/balance",
        "getCustomerBalance",
        "One customer's balances per currency",
        "Balances",
        {200: schemas.CustomerBalancesResponse},
        handler=reports.customer_balance,
    ),
    Operation(
        "GET",
        "/v1/reports/aging",
        "getAgingReport",
        "Outstanding amounts by days past due, per currency",
        "Balances",
        {200: schemas.AgingReportResponse},
        handler=reports.aging,
        query=models.AgingQuery,
    ),
    Operation(
        "GET",
        "/v1/events",
        "listEvents",
        "The account's events in log order, with their webhooks' payloads",
        "Events",
        {200: schemas.EventList},
        handler=events.list_events,
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
        handler=webhook_endpoints.create_webhook_endpoint,
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
        handler=webhook_endpoints.list_webhook_endpoints,
        query=models.ListQuery,
    ),
    Operation(
        "GET",
        "/v1/webhook-endpoints/{id}",
        "getWebhookEndpoint",
        "Get a webhook endpoint (never its secret)",
        "Webhooks",
        {200: schemas.WebhookEndpointViewResponse},
        handler=webhook_endpoints.get_webhook_endpoint,
        etag=True,
    ),
    Operation(
        "PATCH",
        "/v1/webhook-endpoints/{id}",
        "updateWebhookEndpoint",
        "Change url, events, description or enabled; a disabled endpoint gets no new deliveries",
        "Webhooks",
        {200: schemas.WebhookEndpointViewResponse},
        handler=webhook_endpoints.update_webhook_endpoint,
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
        handler=webhook_endpoints.delete_webhook_endpoint,
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
        handler=webhook_endpoints.rotate_webhook_secret,
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
        handler=webhook_endpoints.list_webhook_deliveries,
        query=models.ListQuery,
    ),
    Operation(
        "POST",
        "/v1/webhook-endpoints/{id}/test",
        "sendTestWebhook",
        "Send the endpoint a signed `webhook_endpoint.test` event, whatever it subscribed to",
        "Webhooks",
        {202: schemas.TestWebhookDeliveryResponse},
        handler=webhook_endpoints.send_test_webhook,
    ),
    Operation(
        "POST",
        "/v1/webhook-endpoints/{id}/recover",
        "recoverWebhookDeliveries",
        "Send again every failed delivery of the endpoint created since a time",
        "Webhooks",
        {202: schemas.WebhookRecoveryResponse},
        handler=webhook_endpoints.recover_webhook_deliveries,
        query=models.RecoverQuery,
    ),
    Operation(
        "POST",
        "/v1/webhook-deliveries/{id}/retry",
        "retryWebhookDelivery",
        "Make a failed or pending delivery due now; the delivery sweeper (every 5 s) sends it",
        "Webhooks",
        {202: schemas.RetriedWebhookDeliveryResponse},
        handler=webhook_endpoints.retry_webhook_delivery,
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
        handler=audit.invoice_history,
    ),
    Operation(
        "GET",
        "/v1/audit/checkpoints",
        "listAuditCheckpoints",
        "The account's checkpoints of the log, oldest first: keep copies to verify against",
        "Auditing",
        {200: schemas.AuditCheckpointList},
        handler=audit.list_checkpoints,
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
        handler=health.healthz,
        public=True,
    ),
    Operation(
        "GET",
        "/readyz",
        "readyz",
        "Readiness: the database answers and is migrated",
        "Health",
        {200: schemas.ReadinessResponse},
        handler=health.readyz,
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
        handler=hosted.hosted_invoice,
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
        handler=hosted.hosted_invoice_pdf,
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
            400: Raw(
                "text/html",
                {"type": "string"},
                "The form was incomplete, or its amount is not offered.",
            ),
            403: Raw("text/html", {"type": "string"}, "A live invoice is not paid this way."),
            404: Raw("text/html", {"type": "string"}, "The link is not valid."),
        },
        handler=hosted.pay_in_test_mode,
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
            400: Raw("text/html", {"type": "string"}, "An amount the page does not offer."),
            403: Raw("text/html", {"type": "string"}, "No Paystack key, or no customer email."),
            404: Raw("text/html", {"type": "string"}, "The link is not valid."),
            502: Raw("text/html", {"type": "string"}, "Paystack could not be reached."),
        },
        handler=hosted.pay_with_paystack,
        public=True,
        form=models.HostedCheckoutForm,
    ),
    Operation(
        "GET",
        "/metrics",
        "metrics",
        "Followers' lag and the xid horizon's age, in Prometheus text format",
        "Health",
        {200: Raw("text/plain", {"type": "string"}, "Prometheus metrics.")},
        handler=health.metrics,
        public=True,
    ),
    Operation(
        "GET",
        "/v1/openapi.json",
        "openapi",
        "This document",
        "Meta",
        {200: Raw("application/json", {"type": "object"}, "The OpenAPI 3.1 document.")},
        handler=openapi_json,
        public=True,
    ),
)
