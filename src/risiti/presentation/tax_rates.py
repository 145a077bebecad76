"""A tax rate's wire document."""

from __future__ import annotations

from typing import Any

from risiti.domain.tax_rate import TaxRate


def tax_rate_record(tax_rate: TaxRate) -> dict[str, Any]:
    """How a tax rate reads; the percentage as a string keeps all four decimal places exact."""
    return {
        "id": str(tax_rate.id),
        "object": "tax_rate",
        "name": tax_rate.name,
        "percentage": str(tax_rate.percentage),
        "inclusive": tax_rate.inclusive,
        "description": tax_rate.description,
        "external_id": tax_rate.external_id,
        "livemode": tax_rate.livemode,
        "created_at": tax_rate.created_on.isoformat(),
    }
