"""A product's wire document."""

from __future__ import annotations

from typing import Any

from risiti.domain.product import Product


def product_record(product: Product) -> dict[str, Any]:
    """How a product reads in every channel: the API, its list and its webhooks."""
    return {
        "id": str(product.id),
        "object": "product",
        "sku": product.sku,
        "name": product.name,
        "unit_price": product.unit_price,
        "currency": product.currency,
        "stock": product.stock,
        "low_stock_threshold": product.low_stock_threshold,
        "track_stock": product.track_stock,
        "metadata": product.metadata,
        "version": product.version,
        "livemode": product.livemode,
        "created_at": product.created_on.isoformat(),
        "updated_at": product.modified_on.isoformat(),
    }
