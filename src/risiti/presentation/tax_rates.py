"""A tax rate's wire document, each field declared once in `TaxRate`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from risiti.domain import tax_rate as domain
from risiti.presentation.customers import EXTERNAL_ID
from risiti.presentation.documents import From, Schema, built_from


class TaxRate(Schema):
    id: Annotated[UUID, From(lambda t: str(t.id))]
    object: Annotated[Literal["tax_rate"], From(lambda t: "tax_rate")]
    name: Annotated[str, From(lambda t: t.name)]
    # A string keeps all four decimal places exact.
    percentage: Annotated[str, From(lambda t: str(t.percentage))] = Field(
        description="A decimal string, exact to 4 places.", examples=["7.5"]
    )
    inclusive: Annotated[bool, From(lambda t: t.inclusive)]
    description: Annotated[str | None, From(lambda t: t.description)]
    external_id: Annotated[str | None, From(lambda t: t.external_id)] = Field(
        description=EXTERNAL_ID
    )
    livemode: Annotated[bool, From(lambda t: t.livemode)]
    created_at: Annotated[datetime, From(lambda t: t.created_on.isoformat())]


_tax_rate_document = built_from(TaxRate)


def tax_rate_record(tax_rate: domain.TaxRate) -> dict[str, Any]:
    """How a tax rate reads."""
    return _tax_rate_document(tax_rate)
