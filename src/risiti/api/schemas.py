"""Response models: every body the API answers, exactly as the handlers write it (DESIGN.md §6).

The invoice's model is its document's own (`risiti.presentation.documents.Invoice`), which
builds what is sent, so a field of it is declared once. The other handlers build plain dicts
(`customer_record`, …) that these models describe for the OpenAPI document. Every model forbids
unknown keys, so a field a handler adds without a line here fails the schemathesis test.
This module is long because it is the API's every answer, one short model each.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from risiti.commands.paystack import PAYSTACK_REASONS
from risiti.commands.webhook_endpoints import TEST_EVENT
from risiti.domain.errors import InvalidFieldError
from risiti.domain.webhook_endpoint import EVENT_TYPES
from risiti.presentation.documents import Invoice, InvoiceStatus

T = TypeVar("T")


def _one_of(values: tuple[str, ...], description: str) -> WithJsonSchema:
    """A string the document lists the values of (a client generates an enum of them)."""
    return WithJsonSchema({"type": "string", "enum": list(values), "description": description})


# Every public event the server sends: those an endpoint subscribes to (DESIGN.md §7), and the
# test event an endpoint gets on request whatever it subscribed to.
SENT_EVENT_TYPES = (*EVENT_TYPES, TEST_EVENT)
EventType = Annotated[str, _one_of(SENT_EVENT_TYPES, "A public event type (DESIGN.md §7).")]
SubscribedEventType = Annotated[
    str, _one_of((*EVENT_TYPES, "*"), "An event type to receive, or `*` for every one.")
]

PayloadFormat = Annotated[
    Literal["risiti", "kredo"],
    Field(
        description="How the endpoint's bodies are written: `risiti` (the payload of DESIGN.md "
        "§7) or `kredo` (Kredo's documented `invoice.paid` body, amounts in major units; such an "
        "endpoint subscribes to `invoice.paid` alone). Both are signed with Standard Webhooks "
        "headers (docs/webhooks.md)."
    ),
]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Envelopes ---------------------------------------------------------------------------------


class Envelope(Schema, Generic[T]):
    """`{success: true, data}`: every successful answer but a list."""

    success: Literal[True]
    data: T


class ListEnvelope(Schema, Generic[T]):
    """A page of a newest-first list; pass `next_cursor` as `cursor` for the next page."""

    success: Literal[True]
    data: list[T]
    has_more: bool
    next_cursor: str | None = Field(description="Null on the last page.")


def _without_default(schema: JsonDict) -> None:
    """An optional field that is absent rather than null has no default to show."""
    schema.pop("default", None)


class ErrorBody(Schema):
    code: str = Field(
        description="Stable, machine-readable: validation_error, invalid_json, not_found, "
        "invalid_state, version_conflict, payment_exceeds_balance, authentication_required, "
        "invalid_api_key, …",
        examples=[InvalidFieldError.code],
    )
    message: str = Field(description="For humans; may change.")
    # Present only when there is more to say; never null.
    details: list[dict[str, Any]] | SkipJsonSchema[None] = Field(
        None,
        description="What went wrong where, e.g. `[{field, message}]` for a validation error, "
        "`[{current, allowed}]` for an invalid state, `[{expected, current}]` for a version "
        "conflict.",
        json_schema_extra=_without_default,
    )
    request_id: str = Field(description="Also sent as the `Request-Id` header.")


class ErrorEnvelope(Schema):
    """`{success: false, error}`: every error, whatever its status."""

    success: Literal[False]
    error: ErrorBody


# Invoices ----------------------------------------------------------------------------------


class DeletedInvoice(Schema):
    id: UUID
    object: Literal["invoice"]
    deleted: Literal[True]


# Other resources ---------------------------------------------------------------------------

EXTERNAL_ID = (
    "The id your previous system gave it (Duplo's `cus_…`, Paycashless' `txr_…`), unique per"
    " account and mode: requests may name it by this or by its `id`."
)


class Customer(Schema):
    id: UUID
    object: Literal["customer"]
    name: str
    email: str | None
    phone: str | None
    address: str | None
    metadata: dict[str, Any]
    external_id: str | None = Field(description=EXTERNAL_ID)
    livemode: bool
    created_at: datetime


class TaxRate(Schema):
    id: UUID
    object: Literal["tax_rate"]
    name: str
    percentage: str = Field(description="A decimal string, exact to 4 places.", examples=["7.5"])
    inclusive: bool
    description: str | None
    external_id: str | None = Field(description=EXTERNAL_ID)
    livemode: bool
    created_at: datetime


class Product(Schema):
    """A product of the catalogue, with its stock in whole units."""

    id: UUID
    object: Literal["product"]
    sku: str
    name: str
    unit_price: int = Field(description="Minor units (kobo for NGN).")
    currency: str
    stock: int = Field(description="Below zero only where the account allows negative stock.")
    low_stock_threshold: int | None
    track_stock: bool
    metadata: dict[str, Any]
    version: int = Field(description="Also the `ETag`; send it as `If-Match` to change it.")
    livemode: bool
    created_at: datetime
    updated_at: datetime


class StockAdjustment(Schema):
    """An adjustment as applied; for a reference sent before, the first one, as it was then."""

    object: Literal["stock_adjustment"]
    product_id: UUID
    delta: int
    reason: str
    reference: str | None
    stock_after: int = Field(description="The product's stock just after this adjustment.")
    created_at: datetime
    product: Product = Field(description="The product as it is now.")


class Account(Schema):
    id: UUID
    object: Literal["account"]
    name: str
    require_signed_requests: bool
    paystack_configured: bool = Field(
        description="Whether this mode's Paystack secret key is set; the key is never shown."
    )
    reminder_days: list[int]
    contact_email: str | None
    contact_phone: str | None
    address: str | None
    bank_name: str | None
    bank_account_name: str | None
    bank_account_number: str | None
    locale: str = Field(description="How amounts and dates are written for customers.")
    allow_negative_stock: bool = Field(
        description="Whether stock may go below zero (both modes); by default it may not."
    )
    callback_signing_secret: str = Field(
        description="The Standard Webhooks secret (`whsec_…`) of this key's mode that signs "
        "every call of an invoice's `callback_url` (docs/webhooks.md)."
    )


class WebhookEndpointView(Schema):
    """An endpoint as read, updated or listed: its secret is never shown again."""

    id: UUID
    object: Literal["webhook_endpoint"]
    url: str
    events: list[SubscribedEventType]
    payload_format: PayloadFormat
    description: str | None
    enabled: bool
    disabled_reason: Literal["gone", "failing"] | None = Field(
        None,
        description="Why Risiti disabled the endpoint: `gone` (the receiver answered 410) or"
        " `failing` (every attempt failed for 5 days). Null once it is enabled again.",
    )
    livemode: bool
    created_at: datetime


class WebhookEndpoint(WebhookEndpointView):
    """The endpoint just registered; the only time its signing `secret` is shown."""

    secret: str


class DeletedWebhookEndpoint(Schema):
    id: UUID
    object: Literal["webhook_endpoint"]
    deleted: Literal[True]


class WebhookSecret(Schema):
    """The new signing secret, shown only this once."""

    id: UUID = Field(description="The endpoint's id.")
    object: Literal["webhook_endpoint_secret"]
    secret: str
    current_secret_expires_at: datetime = Field(
        description="Until then (at the latest) the previous secret signs too: each webhook "
        "carries both signatures."
    )


class WebhookAttempt(Schema):
    attempt: int
    attempted_at: datetime
    status_code: int | None = Field(description="Null when no response came (see `error`).")
    latency_ms: int
    response_excerpt: str | None
    error: str | None


class WebhookDelivery(Schema):
    """One event for one endpoint (or one invoice's `callback_url`), with every attempt to
    deliver it, oldest first."""

    id: UUID
    object: Literal["webhook_delivery"]
    endpoint_id: UUID = Field(
        description="The endpoint's id; for an invoice's callback, the id its calls are logged "
        "under (docs/webhooks.md)."
    )
    event_id: str = Field(
        description="The event's id, sent as `webhook-id`: the Risiti payload's `id` (a "
        "Kredo-format body has none of its own)."
    )
    event_type: EventType
    status: Literal["pending", "succeeded", "failed"]
    next_attempt_at: datetime | None = Field(description="When pending: the next attempt.")
    created_at: datetime
    attempts: list[WebhookAttempt]


class RetriedWebhookDelivery(Schema):
    id: UUID
    object: Literal["webhook_delivery"]
    status: Literal["pending"]
    previous_status: Literal["pending", "failed"]


class TestWebhookDelivery(Schema):
    id: UUID = Field(description="The delivery's id; its attempts show in the deliveries list.")
    object: Literal["webhook_delivery"]
    event_type: Literal["webhook_endpoint.test"]
    status: Literal["pending"]


class WebhookRecovery(Schema):
    object: Literal["webhook_recovery"]
    endpoint_id: UUID
    since: datetime
    recovered: int = Field(description="How many failed deliveries are due again.")


class Health(Schema):
    status: Literal["ok"]


class FollowerLag(Schema):
    follower: str = Field(description="`projection:<name>` or `dispatcher`.")
    events: int = Field(description="Events of the log it has not applied yet.")
    seconds: float = Field(description="Age of the oldest of them; 0 when up to date.")
    parked_aggregates: int = Field(
        description="Aggregates it could not apply and set aside (`risiti parked` lists them)."
    )
    parked_events: int = Field(description="Events waiting in them, the first ones included.")


class Readiness(Schema):
    status: Literal["ready"]
    migrations: int = Field(description="How many migrations the database has applied.")
    followers: list[FollowerLag]
    xid_horizon_age_seconds: float = Field(
        description="Age of the oldest running transaction, which holds back what followers read."
    )


class Balance(Schema):
    currency: str
    invoiced: int = Field(description="Total of issued, not void, documents (minor units).")
    paid: int
    outstanding: int = Field(description="invoiced - paid.")
    overdue: int = Field(description="The part of outstanding past its due date today.")


class AccountBalances(Schema):
    object: Literal["balance"]
    balances: list[Balance]


class CustomerBalances(Schema):
    object: Literal["customer_balance"]
    customer_id: UUID
    balances: list[Balance]


class AgingCurrency(Schema):
    currency: str
    current: int = Field(description="Not yet due (or no due date).")
    days_1_30: int = Field(alias="1_30")
    days_31_60: int = Field(alias="31_60")
    days_61_90: int = Field(alias="61_90")
    over_90: int
    total: int = Field(description="Equals the currency's outstanding balance.")


class AgingReport(Schema):
    object: Literal["aging_report"]
    as_of: date
    buckets: list[str]
    currencies: list[AgingCurrency]


class Event(Schema):
    """One public event, exactly as its webhooks carry it."""

    id: str
    event: EventType
    environment: Literal["production", "test"]
    created_at: datetime
    data: dict[str, Any]


# The envelopes as named in the document --------------------------------------------------


class InvoiceResponse(Envelope[Invoice]):
    pass


class InvoiceList(ListEnvelope[Invoice]):
    pass


class DeletedInvoiceResponse(Envelope[DeletedInvoice]):
    pass


class CustomerResponse(Envelope[Customer]):
    pass


class CustomerList(ListEnvelope[Customer]):
    pass


class TaxRateResponse(Envelope[TaxRate]):
    pass


class TaxRateList(ListEnvelope[TaxRate]):
    pass


class ProductResponse(Envelope[Product]):
    pass


class ProductList(ListEnvelope[Product]):
    pass


class StockAdjustmentResponse(Envelope[StockAdjustment]):
    pass


class AccountResponse(Envelope[Account]):
    pass


class WebhookEndpointResponse(Envelope[WebhookEndpoint]):
    pass


class WebhookEndpointViewResponse(Envelope[WebhookEndpointView]):
    pass


class WebhookEndpointList(ListEnvelope[WebhookEndpointView]):
    pass


class DeletedWebhookEndpointResponse(Envelope[DeletedWebhookEndpoint]):
    pass


class WebhookSecretResponse(Envelope[WebhookSecret]):
    pass


class WebhookDeliveryList(ListEnvelope[WebhookDelivery]):
    pass


class RetriedWebhookDeliveryResponse(Envelope[RetriedWebhookDelivery]):
    pass


class TestWebhookDeliveryResponse(Envelope[TestWebhookDelivery]):
    pass


class WebhookRecoveryResponse(Envelope[WebhookRecovery]):
    pass


class HealthResponse(Envelope[Health]):
    pass


class ReadinessResponse(Envelope[Readiness]):
    pass


class AccountBalancesResponse(Envelope[AccountBalances]):
    pass


class CustomerBalancesResponse(Envelope[CustomerBalances]):
    pass


class AgingReportResponse(Envelope[AgingReport]):
    pass


class EventList(ListEnvelope[Event]):
    pass


class PaystackWebhookResult(Schema):
    """What became of a Paystack webhook; any 2xx tells Paystack to stop resending it."""

    object: Literal["paystack_webhook"]
    event: str
    recorded: bool = Field(description="Whether this delivery recorded a payment.")
    # The reasons are defined beside the errors they come from; a Literal cannot be built from
    # them statically, so the schema a Literal would give is written from the list.
    reason: (
        Annotated[str, WithJsonSchema({"enum": list(PAYSTACK_REASONS), "type": "string"})] | None
    ) = Field(description="Why nothing was recorded; null when a payment was.")
    invoice_id: UUID | None = Field(description="The invoice the charge names, once found.")
    invoice_status: InvoiceStatus | None = Field(
        description="That invoice's status after this delivery."
    )


class PaystackWebhookResponse(Envelope[PaystackWebhookResult]):
    pass


# Auditing (docs/auditing.md) ---------------------------------------------------------------


class HistoryEvent(Schema):
    """One event of an invoice's history, as the log holds it."""

    version: int
    type: str = Field(description="The event's past-tense name, such as `PaymentRecorded`.")
    recorded_at: datetime
    actor: str | None = Field(
        description="The API key id, or `job:<name>`, that appended it; null before it was "
        "recorded."
    )
    position: int
    hash: str = Field(description="The event's chain hash, hex (docs/auditing.md).")
    changes: dict[str, Any] = Field(description="The event's fields: what it set or changed.")


class InvoiceHistory(Schema):
    object: Literal["invoice_history"]
    invoice_id: UUID
    document_number: str | None
    events: list[HistoryEvent]


class AuditCheckpoint(Schema):
    """A root hash over the account's events of one range of the log (docs/auditing.md)."""

    object: Literal["checkpoint"]
    account_id: UUID
    sequence: int
    after_transaction_id: int
    after_position: int
    up_to_transaction_id: int
    up_to_position: int
    event_count: int
    previous_root: str
    root: str
    created_at: datetime


class InvoiceHistoryResponse(Envelope[InvoiceHistory]):
    pass


class AuditCheckpointList(ListEnvelope[AuditCheckpoint]):
    pass


# Webhook payloads (DESIGN.md §7), one model per kind of object an event carries ------------


class EventPayload(Schema, Generic[T]):
    """The body of a webhook: the object just after the event, signed per Standard Webhooks."""

    id: str = Field(description="Also the `webhook-id` header; the same on every attempt.")
    environment: Literal["production", "test"] = Field(
        description="`production` for a live key's objects, `test` for a test key's."
    )
    created_at: datetime = Field(description="When the event was recorded.")
    data: T


def _of_kind(*prefixes: str) -> tuple[str, ...]:
    return tuple(name for name in SENT_EVENT_TYPES if name.startswith(prefixes))


INVOICE_EVENT_TYPES = _of_kind("invoice.", "receipt.")
CUSTOMER_EVENT_TYPES = _of_kind("customer.")
PRODUCT_EVENT_TYPES = _of_kind("product.", "inventory.")
WEBHOOK_ENDPOINT_EVENT_TYPES = _of_kind("webhook_endpoint.")


class InvoiceEvent(EventPayload[Invoice]):
    """An invoice's or receipt's event; `data` is the whole invoice as `GET` answers it."""

    event: Annotated[str, _one_of(INVOICE_EVENT_TYPES, "The event type.")]


class CustomerEvent(EventPayload[Customer]):
    event: Annotated[str, _one_of(CUSTOMER_EVENT_TYPES, "The event type.")]


class ProductEvent(EventPayload[Product]):
    """A stock change: `data` is the product with its stock just after it."""

    event: Annotated[str, _one_of(PRODUCT_EVENT_TYPES, "The event type.")]


class WebhookEndpointEvent(EventPayload[WebhookEndpointView]):
    """About the receiving endpoint itself; `data` is the endpoint (never its secret)."""

    event: Annotated[str, _one_of(WEBHOOK_ENDPOINT_EVENT_TYPES, "The event type.")]


WEBHOOK_PAYLOADS: dict[str, type[EventPayload[Any]]] = {
    **dict.fromkeys(INVOICE_EVENT_TYPES, InvoiceEvent),
    **dict.fromkeys(CUSTOMER_EVENT_TYPES, CustomerEvent),
    **dict.fromkeys(PRODUCT_EVENT_TYPES, ProductEvent),
    **dict.fromkeys(WEBHOOK_ENDPOINT_EVENT_TYPES, WebhookEndpointEvent),
}
"""The payload model of each event type the server sends."""
