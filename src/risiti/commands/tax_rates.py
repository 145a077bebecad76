"""Tax rate commands: create; and copying rates into an invoice by id."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from risiti.commands.caller import Caller, get_owned
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger, LedgerTransaction
from risiti.domain.errors import InvalidFieldError
from risiti.domain.tax_rate import TaxRate


@dataclass(frozen=True)
class CreateTaxRate:
    caller: Caller
    name: str
    percentage: Decimal
    inclusive: bool = False
    description: str | None = None


async def create_tax_rate(ledger: Ledger, command: CreateTaxRate) -> TaxRate:
    tax_rate = TaxRate.create(
        account_id=command.caller.account_id,
        livemode=command.caller.livemode,
        name=command.name,
        percentage=command.percentage,
        inclusive=command.inclusive,
        description=command.description,
    )
    async with ledger.transaction() as tx:
        await tx.save(tax_rate, account_id=tax_rate.account_id, livemode=tax_rate.livemode)
    return tax_rate


async def invoice_taxes(
    tx: LedgerTransaction, caller: Caller, tax_rate_ids: list[UUID]
) -> list[dict[str, Any]]:
    """The named rates as an invoice keeps them; a rate of another account does not exist."""
    taxes = []
    for index, tax_rate_id in enumerate(tax_rate_ids):
        try:
            tax_rate = await get_owned(tx, TaxRate, tax_rate_id, caller)
        except NotFoundError:
            raise InvalidFieldError(
                f"No tax rate with id '{tax_rate_id}'.", field=f"tax_rate_ids.{index}"
            ) from None
        taxes.append(tax_rate.as_invoice_tax())
    return taxes
