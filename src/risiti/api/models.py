"""Request models: pydantic at the edge only (DESIGN.md §6).

Create accepts Kredo's documented request as it is, and the item aliases of the other seed APIs
(`name`, `quantity`, `unit_price`, `rate`); numbers may come as numeric strings, as Duplo sends
them. Amounts are integers in minor units.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)


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
        if value != int(value):
            raise ValueError("must be an integer number of minor units (kobo for NGN)")
        return int(value)
    return value


def _quantity(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, float):
        return Decimal(str(value))
    return value


MinorUnits = Annotated[int, BeforeValidator(_minor_units)]
Quantity = Annotated[
    Decimal, BeforeValidator(_quantity), Field(gt=0, le=1_000_000_000, decimal_places=4)
]


class Model(BaseModel):
    # Unknown fields are ignored: the seed APIs send fields of their own (Duplo's business_id).
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)


class ItemIn(Model):
    description: str | None = Field(None, max_length=500)
    name: str | None = Field(None, max_length=500)
    quantity: Quantity = Field(Decimal(1), validation_alias=AliasChoices("quantity", "qty"))
    unit_price: MinorUnits = Field(
        validation_alias=AliasChoices("unit_price", "price", "rate"), ge=0, le=10**15
    )
    product_id: UUID | None = None

    @model_validator(mode="after")
    def _needs_a_description(self) -> ItemIn:
        if not (self.description or self.name):
            raise ValueError("an item needs a description (or name)")
        return self

    def as_line(self) -> dict[str, Any]:
        return {
            "description": self.description or self.name,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "product_id": self.product_id,
            "taxes": [],
        }


class CustomerIn(Model):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=500)


class CreateInvoiceRequest(Model):
    type: Literal["invoice", "receipt"] = "invoice"
    currency: str = Field("NGN", min_length=3, max_length=3)
    customer: CustomerIn | None = None
    customer_name: str | None = Field(None, max_length=200)
    customer_email: str | None = Field(None, max_length=320)
    customer_phone: str | None = Field(None, max_length=40)
    items: list[ItemIn] = Field(min_length=1, max_length=500)
    status: Literal["draft", "open", "unpaid", "invoice"] = "open"
    issue_date: date | None = None
    due_date: date | None = None
    accept_partial_payments: bool = False
    payment_method: str = Field("other", max_length=100)
    reference: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=2000)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs_a_customer(self) -> CreateInvoiceRequest:
        if self.customer is None and not self.customer_name:
            raise ValueError("customer_name (or customer.name) is required")
        return self

    def customer_fields(self) -> dict[str, Any]:
        if self.customer is not None:
            return self.customer.model_dump()
        return {
            "name": self.customer_name,
            "email": self.customer_email,
            "phone": self.customer_phone,
            "address": None,
        }

    @property
    def finalize(self) -> bool:
        """Kredo's `unpaid` and Duplo's `invoice` both mean: issue it now."""
        return self.status != "draft"


class RecordPaymentRequest(Model):
    amount: MinorUnits = Field(gt=0, le=10**15)
    method: str = Field("other", max_length=100)
    reference: str | None = Field(None, max_length=200)
    paid_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class CreateWebhookEndpointRequest(Model):
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=50)
    description: str | None = Field(None, max_length=500)


class ListInvoicesQuery(Model):
    limit: int = Field(50, ge=1, le=100)
    status: Literal["draft", "open", "unpaid", "partially_paid", "paid", "void"] | None = None
    cursor: str | None = None
    starting_after: UUID | None = None
