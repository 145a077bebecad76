"""A customer's wire document."""

from __future__ import annotations

from typing import Any

from risiti.domain.customer import Customer


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
        "external_id": customer.external_id,
        "livemode": customer.livemode,
        "created_at": customer.created_on.isoformat(),
    }
