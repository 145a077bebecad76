"""A customer's wire document: `Customer` declares each field once, its type and description
for the OpenAPI document and, in `From`, where its value comes from."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from risiti.domain import customer as domain
from risiti.presentation.documents import From, Schema, built_from

EXTERNAL_ID = (
    "The id your previous system gave it (Duplo's `cus_…`, Paycashless' `txr_…`), unique per"
    " account and mode: requests may name it by this or by its `id`."
)


class Customer(Schema):
    id: Annotated[UUID, From(lambda c: str(c.id))]
    object: Annotated[Literal["customer"], From(lambda c: "customer")]
    name: Annotated[str, From(lambda c: c.name)]
    email: Annotated[str | None, From(lambda c: c.email)]
    phone: Annotated[str | None, From(lambda c: c.phone)]
    address: Annotated[str | None, From(lambda c: c.address)]
    metadata: Annotated[dict[str, Any], From(lambda c: c.metadata)]
    external_id: Annotated[str | None, From(lambda c: c.external_id)] = Field(
        description=EXTERNAL_ID
    )
    livemode: Annotated[bool, From(lambda c: c.livemode)]
    created_at: Annotated[datetime, From(lambda c: c.created_on.isoformat())]


_customer_document = built_from(Customer)


def customer_record(customer: domain.Customer) -> dict[str, Any]:
    """How a customer reads in every channel."""
    return _customer_document(customer)
