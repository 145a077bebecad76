"""The TaxRate aggregate: a named rate a business applies to invoices by id (Paycashless'
`tax_rate_ids`), such as VAT at 7.5 %."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from risiti.domain.errors import InvalidFieldError
from risiti.domain.external_ids import checked_external_id

MAX_DECIMAL_PLACES = 4


class TaxRate(Aggregate):
    """A tax rate of one account and mode; inclusive rates are contained in prices."""

    @classmethod
    def create(
        cls,
        *,
        account_id: UUID,
        livemode: bool,
        name: str,
        percentage: Decimal,
        inclusive: bool = False,
        description: str | None = None,
        external_id: str | None = None,
    ) -> TaxRate:
        """Record a rate between 0 and 100 percent, with at most four decimal places;
        `external_id` is the id the business' old system gave it (`domain.external_ids`)."""
        if not name.strip():
            raise InvalidFieldError("A tax rate needs a name.", field="name")
        if not percentage.is_finite() or not 0 <= percentage <= 100:
            raise InvalidFieldError("percentage must be between 0 and 100.", field="percentage")
        if percentage != round(percentage, MAX_DECIMAL_PLACES):
            raise InvalidFieldError(
                f"percentage has at most {MAX_DECIMAL_PLACES} decimal places.", field="percentage"
            )
        return cls(
            account_id=account_id,
            livemode=livemode,
            name=name.strip(),
            percentage=percentage,
            inclusive=inclusive,
            description=description,
            external_id=checked_external_id(external_id),
        )

    @event("Created")
    def __init__(
        self,
        *,
        account_id: UUID,
        livemode: bool,
        name: str,
        percentage: Decimal,
        inclusive: bool,
        description: str | None,
        external_id: str | None = None,  # absent from rates created before it existed
    ) -> None:
        self.account_id = account_id
        self.livemode = livemode
        self.name = name
        self.percentage = percentage
        self.inclusive = inclusive
        self.description = description
        self.external_id = external_id

    def as_invoice_tax(self) -> dict[str, Any]:
        """The copy an invoice keeps, so a later rate never changes an issued invoice."""
        return {
            "name": self.name,
            "percentage": self.percentage,
            "inclusive": self.inclusive,
            "tax_rate_id": self.id,
        }
