"""How customers, tax rates, products and webhook endpoints read: in the API, in their list
tables (written with their events, `side_tables.py`) and in their webhooks.

Kept apart from the commands that change them: the unit of work writes the list tables, and
the commands import the unit of work.
"""

from __future__ import annotations

from typing import Any

from risiti.domain.customer import Customer
from risiti.domain.product import Product
from risiti.domain.tax_rate import TaxRate
from risiti.domain.webhook_endpoint import WebhookEndpoint


def customer_record(customer: Customer) -> dict[str, Any]:
    """How a customer reads in every channel."""
    return {
        "id": str(customer.id),
        "object": "customer",
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "address": customer.address,
        "metadata": customer.metadata,
        "livemode": customer.livemode,
        "created_at": customer.created_on.isoformat(),
    }


def tax_rate_record(tax_rate: TaxRate) -> dict[str, Any]:
    """How a tax rate reads; the percentage as a string keeps all four decimal places exact."""
    return {
        "id": str(tax_rate.id),
        "object": "tax_rate",
        "name": tax_rate.name,
        "percentage": str(tax_rate.percentage),
        "inclusive": tax_rate.inclusive,
        "description": tax_rate.description,
        "livemode": tax_rate.livemode,
        "created_at": tax_rate.created_on.isoformat(),
    }


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


def webhook_endpoint_record(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """How an endpoint reads after its creation: never with its secret."""
    return {
        "id": str(endpoint.id),
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "livemode": endpoint.livemode,
        "created_at": endpoint.created_on.isoformat(),
    }
