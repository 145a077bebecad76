"""Tax rate commands: create, get and list; and copying rates into an invoice by id."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from risiti.commands.caller import Caller, get_owned
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger, LedgerTransaction
from risiti.commands.listing import list_listed
from risiti.domain.errors import InvalidFieldError
from risiti.domain.tax_rate import TaxRate
from risiti.eventstore import listings
from risiti.eventstore.paging import Place


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


async def list_tax_rates(
    ledger: Ledger,
    caller: Caller,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> listings.RecordPage:
    return await list_listed(
        ledger, caller, "tax_rates", "tax rate", limit=limit, after=after, backward=backward
    )


async def get_tax_rate(ledger: Ledger, caller: Caller, tax_rate_id: UUID) -> TaxRate:
    """The caller's tax rate; another account's (or mode's) does not exist."""
    return await get_owned(ledger, TaxRate, tax_rate_id, caller)


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
