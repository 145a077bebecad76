"""A product's wire document, each field declared once in `Product`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from risiti.domain import product as domain
from risiti.presentation.documents import From, Schema, built_from


class Product(Schema):
    """A product of the catalogue, with its stock in whole units."""

    id: Annotated[UUID, From(lambda p: str(p.id))]
    object: Annotated[Literal["product"], From(lambda p: "product")]
    sku: Annotated[str, From(lambda p: p.sku)]
    name: Annotated[str, From(lambda p: p.name)]
    unit_price: Annotated[int, From(lambda p: p.unit_price)] = Field(
        description="Minor units (kobo for NGN)."
    )
    currency: Annotated[str, From(lambda p: p.currency)]
    stock: Annotated[int, From(lambda p: p.stock)] = Field(
        description="Below zero only where the account allows negative stock."
    )
    low_stock_threshold: Annotated[int | None, From(lambda p: p.low_stock_threshold)]
    track_stock: Annotated[bool, From(lambda p: p.track_stock)]
    metadata: Annotated[dict[str, Any], From(lambda p: p.metadata)]
    version: Annotated[int, From(lambda p: p.version)] = Field(
        description="Also the `ETag`; send it as `If-Match` to change it."
    )
    livemode: Annotated[bool, From(lambda p: p.livemode)]
    created_at: Annotated[datetime, From(lambda p: p.created_on.isoformat())]
    updated_at: Annotated[datetime, From(lambda p: p.modified_on.isoformat())]


_product_document = built_from(Product)


def product_record(product: domain.Product) -> dict[str, Any]:
    """How a product reads in every channel: the API, its list and its webhooks."""
    return _product_document(product)
