"""Tax rate commands: create; and copying rates into an invoice by id or external_id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger, LedgerTransaction
from risiti.commands.references import referenced
from risiti.domain.tax_rate import TaxRate


@dataclass(frozen=True)
class CreateTaxRate:
    caller: Caller
    name: str
    percentage: Decimal
    inclusive: bool = False
    description: str | None = None
    external_id: str | None = None


async def create_tax_rate(ledger: Ledger, command: CreateTaxRate) -> TaxRate:
    tax_rate = TaxRate.create(
        account_id=command.caller.account_id,
        livemode=command.caller.livemode,
        name=command.name,
        percentage=command.percentage,
        inclusive=command.inclusive,
        description=command.description,
        external_id=command.external_id,
    )
    async with ledger.transaction() as tx:
        await tx.save(tax_rate, account_id=tax_rate.account_id, livemode=tax_rate.livemode)
    return tax_rate


async def invoice_taxes(
    tx: LedgerTransaction,
    caller: Caller,
    references: Sequence[object],
    *,
    reference_field: str = "tax_rate_ids",
) -> list[dict[str, Any]]:
    """The rates named (each by its id or external_id) as an invoice keeps them; an unknown one,
    or another account's, is a validation error naming its place (`tax_rate_ids.0`)."""
    taxes = []
    for index, reference in enumerate(references):
        field = f"{reference_field}.{index}"
        tax_rate = await referenced(tx, TaxRate, reference, caller, field=field)
        taxes.append(tax_rate.as_invoice_tax())
    return taxes
