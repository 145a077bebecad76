"""Request models: pydantic at the edge only (DESIGN.md §6).

Create accepts Kredo's documented request as it is, and the item aliases of the other seed APIs
(`name`, `quantity`, `unit_price`, `rate`); numbers may come as numeric strings, as Duplo sends
them. Amounts are integers in minor units.
This module is long because it holds every request the API takes, and the seeds' aliases and
validators with the fields they concern; split, one endpoint's body would span files.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    model_validator,
)
from pydantic.fields import FieldInfo

from risiti.api.schemas import PayloadFormat, SubscribedEventType
from risiti.commands.references import ReferenceFields
from risiti.domain.bounds import MAX_AMOUNT, MAX_QUANTITY, MAX_STOCK, QUANTITY_PLACES
from risiti.domain.customer import checked_email
from risiti.domain.errors import InvalidFieldError, InvalidInvoiceError
from risiti.domain.external_ids import MAX_EXTERNAL_ID_LENGTH
from risiti.eventstore.paging import MAX_POSITION
from risiti.presentation.customers import EXTERNAL_ID

# The bounds of docs/api.md ("Bounds"), checked here so that a request past one is refused by
# its field path before any command runs; the domain checks them again for every other caller.
MAX_MINOR_UNITS = MAX_AMOUNT


def _minor_units(value: Any) -> Any:
    """Whole minor units, as a JSON integer or a numeric string ("5000"); never a fraction."""
    if isinstance(value, bool):
        raise ValueError("must be an integer number of minor units")
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError("must be an integer number of minor units") from None
    if isinstance(value, float | Decimal):
        amount = Decimal(value)
        # Checked before int(): "1e999999999" would otherwise build a billion-digit integer.
        if not amount.is_finite() or amount.copy_abs() > MAX_MINOR_UNITS:
            raise ValueError(f"must be a whole number of minor units up to {MAX_MINOR_UNITS}")
        if amount != int(amount):
            raise ValueError("must be an integer number of minor units (kobo for NGN)")
        return int(amount)
    return value


def _quantity(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, float):
        return Decimal(str(value))
    return value


MinorUnits = Annotated[int, BeforeValidator(_minor_units)]
Quantity = Annotated[
    Decimal,
    BeforeValidator(_quantity),
    Field(gt=0, le=MAX_QUANTITY, decimal_places=QUANTITY_PLACES),
]
Position = Annotated[int, Field(ge=0, le=MAX_POSITION)]
"""A numeric cursor: a log position, a feed's or checkpoints' sequence (bigint, all of them)."""


@lru_cache(maxsize=4096)
def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@cache
def _fields_by_key(model: type[BaseModel]) -> dict[str, str]:
    """Each name a field of `model` is sent by (its own, its aliases) → the field: worked out
    once per model, not on every body and every item of one."""
    return {
        key: name for name, field in model.model_fields.items() for key in _names_of(field, name)
    }


def _date_part(value: Any) -> Any:
    """A date, or the date of a timestamp (Paycashless sends `2023-11-07T05:31:56Z`)."""
    if isinstance(value, str) and "T" in value:
        return value.split("T", 1)[0]
    return value


def _on_the_calendar_in_utc(moment: datetime) -> datetime:
    """An instant whose UTC time Python can reach: 0001-01-01T00:00+14:00 is before year 1 in
    UTC, and would fail in every query and follower that compares it."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is off the calendar once converted to UTC") from None
    return moment


Instant = Annotated[AwareDatetime, AfterValidator(_on_the_calendar_in_utc)]


def _an_email_address(email: str) -> str:
    """The domain's rule (`checked_email`), at the edge: refused by the field it was sent in,
    beside the body's other errors, before any command runs."""
    try:
        checked_email(email)
    except InvalidFieldError:
        raise ValueError("is not an email address") from None
    return email


EmailAddress = Annotated[str, AfterValidator(_an_email_address)]
Percentage = Annotated[Decimal, BeforeValidator(_quantity), Field(ge=0, le=100, decimal_places=4)]
Day = Annotated[date, BeforeValidator(_date_part)]


def _names_of(field: FieldInfo, name: str) -> tuple[str, ...]:
    """Every key a field is read from: its name and its aliases (`qty` for `quantity`)."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return (name, *(choice for choice in alias.choices if isinstance(choice, str)))
    return (name, alias) if isinstance(alias, str) else (name,)


class Model(BaseModel):
    # Nothing is silently ignored (DESIGN.md §6): a field the request does not have is a
    # validation error naming it (`extra_forbidden`, worded by `errors.from_pydantic`).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_camel_case(cls, data: Any) -> Any:
        """Paycashless sends camelCase (`acceptPartialPayments`); every field accepts both. A
        key that is no field's stays as sent, so that its refusal names it as the client wrote
        it; two keys for one field (`qty` and `quantity`) are refused, since one would be lost."""
        if not isinstance(data, dict):
            return data
        field_of = _fields_by_key(cls)
        read: dict[Any, Any] = {}
        seen: dict[str, str] = {}
        for key, value in data.items():
            key_read = _snake_case(key) if isinstance(key, str) else key
            if key_read in field_of:
                field = field_of[key_read]
                if field in seen:
                    raise ValueError(f"send {seen[field]} or {key}, not both: they are one field")
                seen[field] = key
                key = key_read
            read[key] = value
        return read


class ItemIn(Model):
    description: str | None = Field(None, max_length=500)
    name: str | None = Field(
        None,
        max_length=500,
        description="The line's label, as the seed APIs call it; sent with `description`, the "
        "name is the label and the description becomes the line's `details`.",
    )
    details: str | None = Field(
        None, max_length=2000, description="More about the line, shown under its label."
    )
    quantity: Quantity = Field(Decimal(1), validation_alias=AliasChoices("quantity", "qty"))
    unit_price: MinorUnits | None = Field(
        None,
        validation_alias=AliasChoices("unit_price", "price", "rate"),
        ge=0,
        le=MAX_MINOR_UNITS,
        description="Required unless the line names a product, whose price it then takes.",
    )
    product_id: UUID | None = None
    sku: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Links the line to the account's product with this sku (as `product_id`).",
    )

    @model_validator(mode="after")
    def _needs_a_description_and_price(self) -> ItemIn:
        names_a_product = self.product_id is not None or self.sku is not None
        if not (self.description or self.name or names_a_product):
            raise ValueError("an item needs a description (or name), or a product_id or sku")
        if self.unit_price is None and not names_a_product:
            raise ValueError("an item needs a unit_price, unless it names a product_id or sku")
        if self.name and self.description and self.details:
            raise ValueError(
                "send details, or name and description (the description is then the details),"
                " not all three"
            )
        return self

    def as_line(self) -> dict[str, Any]:
        """The line as sent; a product it names fills in its description and unit price."""
        return {
            # Paycashless sends both: the name is the line's label, the description its details.
            "description": self.name or self.description,
            "details": self.details or (self.description if self.name else None),
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "product_id": self.product_id,
            "sku": self.sku,
            "taxes": [],
        }


Reference = Annotated[str, Field(min_length=1, max_length=MAX_EXTERNAL_ID_LENGTH)]
"""A customer or tax rate named by its id or its external_id (`commands/references.py`)."""
ExternalId = Annotated[
    str, Field(min_length=1, max_length=MAX_EXTERNAL_ID_LENGTH, description=EXTERNAL_ID)
]


class CustomerIn(Model):
    name: str = Field(min_length=1, max_length=200)
    email: EmailAddress | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=500)


class DiscountIn(Model):
    """Duplo's `{type, value}`: a percentage off each line, or an amount in minor units."""

    type: Literal["percentage", "amount"]
    value: Annotated[Decimal, BeforeValidator(_quantity)] = Field(ge=0, le=MAX_MINOR_UNITS)

    @model_validator(mode="after")
    def _value_fits_type(self) -> DiscountIn:
        if self.type == "percentage" and self.value > 100:
            raise ValueError("a percentage discount is at most 100")
        if self.type == "amount" and self.value != int(self.value):
            raise ValueError("an amount discount is whole minor units")
        return self

    def as_discount(self) -> dict[str, Any]:
        value = self.value if self.type == "percentage" else int(self.value)
        return {"type": self.type, "value": value}


class TaxIn(Model):
    """Duplo's invoice-level `{type: percentage, value, description}`."""

    type: Literal["percentage"] = "percentage"
    value: Percentage
    description: str | None = Field(None, max_length=200)
    inclusive: bool = False

    def as_tax(self) -> dict[str, Any]:
        return {
            "name": self.description or "Tax",
            "percentage": self.value,
            "inclusive": self.inclusive,
        }


# The customer's id or external_id, as the native API and Duplo (`recipient_ref`, `recipient`) say.
CUSTOMER_REFERENCES = ("customer_id", "recipient_ref", "recipient")
CUSTOMER_FIELDS = (
    "customer",
    "customer_id",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_address",
)


# Fields the domain takes under the same name and in the same form as they are sent.
_AS_SENT = (
    "issue_date",
    "due_date",
    "max_installments",
    "description",
    "reference",
    "note",
    "callback_url",
    "return_url",
)


class InvoiceFieldsIn(Model):
    """The fields create and update share, in every seed API's spelling."""

    currency: str | None = Field(None, min_length=3, max_length=3)
    customer: CustomerIn | None = None
    customer_id: Reference | None = Field(
        None,
        validation_alias=AliasChoices(*CUSTOMER_REFERENCES),
        description="A customer of yours, by its `id` or its `external_id`.",
    )
    customer_name: str | None = Field(None, max_length=200)
    customer_email: EmailAddress | None = Field(None, max_length=320)
    customer_phone: str | None = Field(None, max_length=40)
    customer_address: str | None = Field(None, max_length=500)
    items: list[ItemIn] | None = Field(None, min_length=1, max_length=500)
    issue_date: Day | None = None
    due_date: Day | None = None
    discount: DiscountIn | None = None
    tax: TaxIn | None = None
    tax_rate: Percentage | None = None
    tax_rate_ids: list[Reference] | None = Field(
        None, max_length=20, description="Tax rates of yours, each by its `id` or `external_id`."
    )
    shipping_fee: MinorUnits | None = Field(None, ge=0, le=MAX_MINOR_UNITS)
    accept_partial_payments: bool | None = None
    max_installments: int | None = Field(None, ge=1, le=100)
    invoice_number: str | None = Field(None, min_length=1, max_length=64)
    description: str | None = Field(None, max_length=2000)
    reference: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=2000)
    metadata: dict[str, Any] | None = None
    callback_url: str | None = Field(
        None,
        max_length=2000,
        description="Paycashless' `callbackUrl`: Risiti POSTs the signed `invoice.paid` payload "
        "there once the invoice is paid (docs/webhooks.md). https in live mode; a private "
        "address is refused.",
    )
    return_url: str | None = Field(
        None,
        max_length=2000,
        description="Paycashless' `returnUrl`: where the hosted page sends the customer after "
        "they pay.",
    )

    _customer_sent_as: str = PrivateAttr(CUSTOMER_REFERENCES[0])

    @model_validator(mode="wrap")
    @classmethod
    def _note_where_the_customer_was_named(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self]
    ) -> Self:
        """The field the client named the customer by (`recipient`, Duplo's), which pydantic
        does not keep: an unknown customer is refused under the name it was sent as."""
        fields = handler(data)
        if isinstance(data, dict):
            sent = {_snake_case(k): k for k in data if isinstance(k, str)}
            named = next((sent[alias] for alias in CUSTOMER_REFERENCES if alias in sent), None)
            fields._customer_sent_as = named or CUSTOMER_REFERENCES[0]
        return fields

    @property
    def reference_fields(self) -> ReferenceFields:
        """Where the references to a customer and to tax rates were sent, for the errors."""
        return ReferenceFields(customer=self._customer_sent_as)

    def invoice_changes(self) -> dict[str, Any]:
        """The invoice fields the client sent, named as the domain names them."""
        sent = self.model_fields_set
        changes = {name: getattr(self, name) for name in _AS_SENT if name in sent}
        derived = {
            "customer": (bool(sent & set(CUSTOMER_FIELDS)), self._customer),
            "items": ("items" in sent, lambda: [item.as_line() for item in self.items or []]),
            "currency": ("currency" in sent, lambda: (self.currency or "").upper()),
            "discount": ("discount" in sent, lambda: self.discount and self.discount.as_discount()),
            "taxes": (bool(sent & {"tax", "tax_rate"}), self._taxes),
            "requested_number": ("invoice_number" in sent, lambda: self.invoice_number),
            "metadata": ("metadata" in sent, lambda: self.metadata or {}),
            "shipping_fee": ("shipping_fee" in sent, lambda: self.shipping_fee or 0),
            "accept_partial_payments": (
                "accept_partial_payments" in sent,
                lambda: bool(self.accept_partial_payments),
            ),
        }
        changes.update({name: value() for name, (was_sent, value) in derived.items() if was_sent})
        return changes

    def _customer(self) -> dict[str, Any]:
        if self.customer_id is not None:
            return {"id": self.customer_id}
        if self.customer is not None:
            return self.customer.model_dump()
        return {
            "name": self.customer_name,
            "email": self.customer_email,
            "phone": self.customer_phone,
            "address": self.customer_address,
        }

    def _taxes(self) -> list[dict[str, Any]]:
        taxes = [self.tax.as_tax()] if self.tax else []
        if self.tax_rate is not None:
            taxes.append({"name": "Tax", "percentage": self.tax_rate, "inclusive": False})
        return taxes


class CreateInvoiceRequest(InvoiceFieldsIn):
    type: Literal["invoice", "receipt"] = "invoice"
    items: list[ItemIn] = Field(min_length=1, max_length=500)
    status: Literal["draft", "open", "unpaid", "invoice", "paid"] = "open"
    auto_finalize: bool | None = None
    days_until_due: int | None = Field(None, gt=0, le=1800)
    send_email: bool = False
    payment_method: str = Field("other", max_length=100)

    @model_validator(mode="after")
    def _needs_a_customer(self) -> CreateInvoiceRequest:
        if self.customer is None and self.customer_id is None and not self.customer_name:
            raise ValueError("customer_name (or customer.name, or customer_id) is required")
        return self

    @model_validator(mode="after")
    def _paid_is_issued(self) -> CreateInvoiceRequest:
        if self.status == "paid" and self.auto_finalize is False:
            raise InvalidInvoiceError(
                "status paid issues the document; auto_finalize false would keep a draft.",
                field="auto_finalize",
            )
        # "other" is the default, which a generated client sends on every create: it says nothing.
        issued_paid = self.paid or self.type == "receipt"
        if self.payment_method != "other" and not issued_paid:
            raise InvalidInvoiceError(
                "payment_method says how a document issued paid was paid: send it with "
                "status paid, or record the payment later (POST /v1/invoices/{id}/payments).",
                field="payment_method",
            )
        return self

    @property
    def finalize(self) -> bool:
        """Kredo's `unpaid` and Duplo's `invoice` both mean: issue it now; Paycashless says so
        with `auto_finalize`."""
        if self.auto_finalize is not None:
            return self.auto_finalize
        return self.status != "draft"

    @property
    def paid(self) -> bool:
        """`status: paid` issues the document paid, `payment_method` saying how (DESIGN.md §5)."""
        return self.status == "paid"

    def due_date_or_days(self, issue_date: date) -> date | None:
        if self.due_date is None and self.days_until_due is not None:
            try:
                return issue_date + timedelta(days=self.days_until_due)
            except OverflowError:
                raise InvalidInvoiceError(
                    "issue_date plus days_until_due is past the last date.",
                    field="days_until_due",
                ) from None
        return self.due_date


class UpdateInvoiceRequest(InvoiceFieldsIn):
    """PATCH: the fields sent replace the invoice's; customer fields replace the customer whole."""


class CreateWebhookEndpointRequest(Model):
    url: str = Field(min_length=1, max_length=2000)
    # Checked by the domain (`check_events`), which names the unknown ones; listed for clients.
    events: list[SubscribedEventType] = Field(min_length=1, max_length=50)
    payload_format: PayloadFormat = "risiti"
    description: str | None = Field(None, max_length=500)


class UpdateWebhookEndpointRequest(Model):
    """PATCH: the fields sent replace the endpoint's; a new url is checked like a new endpoint's."""

    url: str | None = Field(None, min_length=1, max_length=2000)
    events: list[SubscribedEventType] | None = Field(None, min_length=1, max_length=50)
    payload_format: PayloadFormat | None = None
    description: str | None = Field(None, max_length=500)
    enabled: bool | None = None

    @model_validator(mode="after")
    def _only_description_may_be_null(self) -> UpdateWebhookEndpointRequest:
        for name in ("url", "events", "payload_format", "enabled"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class RotateWebhookSecretRequest(Model):
    """How long the current secret keeps signing beside the new one (at most 7 days)."""

    expire_current_after_seconds: int = Field(86400, ge=0, le=7 * 24 * 3600)


class MarkPaidRequest(Model):
    method: str = Field("other", max_length=100)
    reference: str | None = Field(None, max_length=200)
    paid_at: Instant = Field(default_factory=lambda: datetime.now(UTC))


class RecordPaymentRequest(MarkPaidRequest):
    amount: MinorUnits = Field(gt=0, le=MAX_MINOR_UNITS)


class ReasonRequest(Model):
    """Why an invoice is voided or marked unpaid; kept in its history."""

    reason: str | None = Field(None, max_length=500)


class SendInvoiceRequest(Model):
    """Where to send; with neither, the customer's email."""

    email: EmailAddress | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)


class CreateCustomerRequest(Model):
    name: str = Field(min_length=1, max_length=200)
    email: EmailAddress | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=500)
    metadata: dict[str, Any] = Field(default_factory=dict)
    external_id: ExternalId | None = None


class CreateTaxRateRequest(Model):
    name: str = Field(min_length=1, max_length=200)
    percentage: Percentage
    inclusive: bool = False
    description: str | None = Field(None, max_length=500)
    external_id: ExternalId | None = None


class UpdateAccountRequest(Model):
    """Each setting sent is changed; one not sent stays as it is."""

    name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The business' name, shown to its customers on the hosted page, the PDF "
        "and the messages sent them.",
    )
    require_signed_requests: bool | None = None
    paystack_secret_key: str | None = Field(
        None,
        max_length=200,
        description="The Paystack secret key of this key's mode (`sk_test_…` or `sk_live_…`), "
        "which signs Paystack's webhooks; write-only. An empty string removes it.",
    )
    reminder_days: list[int] | None = Field(
        None,
        max_length=10,
        description="Days relative to an invoice's due date on which its customer is reminded "
        "by email (and text, if the phone is known) while it is open: `[-3, 0, 7]` is three "
        "days before, on the day and a week after. `[]` sends no reminders.",
    )
    # Shown to customers on the hosted page and the PDF; null or "" clears one.
    contact_email: str | None = Field(None, max_length=200)
    contact_phone: str | None = Field(None, max_length=50)
    address: str | None = Field(None, max_length=500)
    bank_name: str | None = Field(None, max_length=100)
    bank_account_name: str | None = Field(None, max_length=200)
    bank_account_number: str | None = Field(None, max_length=40)
    locale: str | None = Field(
        None,
        max_length=20,
        description="How amounts and dates are written for customers (CLDR, e.g. en_NG, fr_SN).",
    )
    allow_negative_stock: bool | None = Field(
        None, description="Whether stock may go below zero; by default it may not."
    )

    @model_validator(mode="after")
    def _name_may_not_be_null(self) -> UpdateAccountRequest:
        if "name" in self.model_fields_set and self.name is None:
            raise InvalidFieldError("name may not be null: an account keeps a name.", field="name")
        return self


def _blank_is_none(value: Any) -> Any:
    """An HTML form's empty input is sent as ""; it means nothing was typed."""
    return None if value == "" else value


class HostedCheckoutForm(Model):
    """The hosted page's "Pay with Paystack" form (docs/hosted.md)."""

    amount: Annotated[Decimal | None, BeforeValidator(_blank_is_none)] = Field(
        None,
        gt=0,
        le=MAX_MINOR_UNITS,
        description="What the customer chose to pay, in major units (2500.50), where the "
        "invoice offers partial payment; the whole amount due when absent.",
    )


class HostedPaymentForm(HostedCheckoutForm):
    """The hosted page's "Pay now (test)" form (docs/hosted.md)."""

    version: int = Field(
        ge=1,
        le=MAX_POSITION,
        description="The invoice version the page showed: a second submit of the same form "
        "finds a newer version and pays nothing.",
    )


Sku = Annotated[str, Field(min_length=1, max_length=100)]
StockCount = Annotated[int, Field(ge=-MAX_STOCK, le=MAX_STOCK)]


class CreateProductRequest(Model):
    sku: Sku
    name: str = Field(min_length=1, max_length=500)
    unit_price: MinorUnits = Field(ge=0, le=MAX_MINOR_UNITS)
    currency: str = Field("NGN", min_length=3, max_length=3)
    stock: StockCount = Field(0, ge=0, description="Units in stock to start with.")
    low_stock_threshold: StockCount | None = Field(
        None, ge=0, description="`product.stock_low` fires when stock falls to this or below."
    )
    track_stock: bool = Field(
        True, description="Whether issued invoices take units from stock (and voids give back)."
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class UpdateProductRequest(Model):
    """PATCH: the fields sent replace the product's; stock changes only by adjustments."""

    sku: Sku | None = None
    name: str | None = Field(None, min_length=1, max_length=500)
    unit_price: MinorUnits | None = Field(None, ge=0, le=MAX_MINOR_UNITS)
    currency: str | None = Field(None, min_length=3, max_length=3)
    low_stock_threshold: StockCount | None = Field(None, ge=0)
    track_stock: bool | None = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _only_threshold_may_be_null(self) -> UpdateProductRequest:
        for name in self.model_fields_set - {"low_stock_threshold"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class AdjustStockRequest(Model):
    delta: StockCount = Field(description="Units added (positive) or removed (negative).")
    reason: str = Field("adjustment", min_length=1, max_length=200, examples=["restock"])
    reference: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Your id for this change (another channel's sale or restock): the same "
        "reference again applies nothing and answers the first adjustment.",
    )


class ListQuery(Model):
    limit: int = Field(50, ge=1, le=100)
    cursor: str | None = None
    starting_after: UUID | None = None
    ending_before: UUID | None = Field(
        None,
        description="The page just newer than this row, still newest first: `has_more` then"
        " says whether newer rows remain (ask again with `ending_before` set to the first id).",
    )

    @property
    def backward(self) -> bool:
        return self.ending_before is not None


class ListReferencedQuery(ListQuery):
    """The customers' and tax rates' lists, which find one by the id of a previous system."""

    external_id: ExternalId | None = Field(
        None, description="Only the one with this external_id (an empty page if none has it)."
    )


class ListInvoicesQuery(ListQuery):
    status: (
        Literal["draft", "open", "unpaid", "partially_paid", "paid", "void", "overdue"] | None
    ) = None
    customer_id: UUID | None = None
    type: Literal["invoice", "receipt"] | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    created_gte: Instant | Day | None = None
    created_lte: Instant | Day | None = None
    due_gte: Day | None = None
    due_lte: Day | None = None
    q: str | None = Field(None, min_length=1, max_length=200)


class ListEventsQuery(Model):
    limit: int = Field(50, ge=1, le=100)
    cursor: Position | None = None
    type: str | None = Field(None, max_length=100)


class RecoverQuery(Model):
    since: Instant = Field(
        description="Failed deliveries created at or after this instant are sent again."
    )


class AgingQuery(Model):
    as_of: Day | None = None


class PaystackDocument(Model):
    """A body Paystack writes, not Risiti: Paystack adds fields to its events without notice,
    and Risiti acts only on the ones its models name, so the others are ignored here (and only
    here), where refusing them would refuse Paystack's payments. Its keys are read as Paystack
    spells them: it sends `paid_at` and `paidAt` both, which must not count as one field twice."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _accept_camel_case(cls, data: Any) -> Any:
        return data


class PaystackWebhookRequest(PaystackDocument):
    """A Paystack webhook event as Paystack sends it; only `charge.success` is acted on."""

    event: str = Field(max_length=100, examples=["charge.success"])
    data: dict[str, Any] = Field(default_factory=dict)


def _object_or_none(value: Any) -> Any:
    """Paystack sends `metadata` as an object, or as "" or 0 when the charge has none."""
    return value if isinstance(value, dict) else None


class PaystackMetadata(PaystackDocument):
    """What the checkout put in the charge's metadata to name the invoice it pays."""

    invoice_id: UUID | None = None
    invoice_number: str | None = Field(None, min_length=1, max_length=100)
    account_id: UUID | None = None


class PaystackChargeData(PaystackDocument):
    reference: str = Field(min_length=1, max_length=200)
    amount: MinorUnits = Field(gt=0, le=MAX_MINOR_UNITS)
    currency: str = Field(min_length=3, max_length=3)
    paid_at: Instant | None = None
    domain: Literal["test", "live"] | None = None
    metadata: Annotated[PaystackMetadata | None, BeforeValidator(_object_or_none)] = None


class PaystackChargeEvent(PaystackDocument):
    """A `charge.success` event."""

    event: Literal["charge.success"]
    data: PaystackChargeData


class InvoiceReadQuery(Model):
    """`GET /v1/invoices/{id}` for auditors: the invoice as it stood at an instant or version."""

    as_of: Instant | None = Field(
        None,
        description="An ISO 8601 instant with its offset: the invoice folded from the events "
        "recorded up to it (inclusive). 404 if it did not exist yet.",
    )
    version: int | None = Field(
        None,
        ge=1,
        le=2**62,
        description="The invoice after its first `version` events. 404 past the latest.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> InvoiceReadQuery:
        if self.as_of is not None and self.version is not None:
            raise ValueError("send as_of or version, not both")
        return self


class CheckpointsQuery(Model):
    limit: int = Field(50, ge=1, le=100)
    cursor: Position | None = Field(
        None, description="The `next_cursor` of the previous page: a checkpoint's sequence."
    )
