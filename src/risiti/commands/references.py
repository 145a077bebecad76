"""Naming a customer or a tax rate in a request: by its Risiti id, or by the external_id the
business' old system gave it (docs/api.md, "External ids"). One resolver for every request that
takes such a reference: the native API's `customer_id` and `tax_rate_ids`, and the seed
dialects' own fields (Duplo's `recipient`, Invoice.ng's `client`, Paycashless' `taxRateIds`),
each passing the field path the client wrote it under.

A reference that is one of the caller's ids of that kind names that one; any other is looked up
as an external_id. So an old system whose ids were UUIDs still works: a Risiti id is a random
UUID that no other system gave out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from risiti.commands.caller import Caller, get_owned, kind_of
from risiti.commands.errors import NotFoundError, UnknownReferenceError
from risiti.commands.ledger import Ledger, LedgerTransaction
from risiti.commands.side_tables import EXTERNAL_ID_KINDS
from risiti.domain.customer import Customer
from risiti.domain.errors import InvalidFieldError
from risiti.domain.external_ids import checked_external_id
from risiti.domain.tax_rate import TaxRate

Referenced = TypeVar("Referenced", Customer, TaxRate)


@dataclass(frozen=True)
class ReferenceFields:
    """Where an invoice command's references were written, for the errors that name them: the
    native API's fields by default; a dialect passes its own (`taxRateIds`: `taxRateIds.0`)."""

    customer: str = "customer_id"
    tax_rates: str = "tax_rate_ids"


async def get_referenced(
    source: Ledger | LedgerTransaction, cls: type[Referenced], reference: str, caller: Caller
) -> Referenced:
    """The caller's customer or tax rate (`cls`) whose id or external_id is `reference`;
    UnknownReferenceError (a not-found) if the caller's account and mode have none."""
    aggregate_id = _as_uuid(reference)
    if aggregate_id is not None:
        try:
            return await get_owned(source, cls, aggregate_id, caller)
        except NotFoundError:
            # Not one of ours by id: an old system may have used UUIDs as its own ids, so the
            # same text is looked up as an external_id next.
            pass
    holder = await external_id_holder(source, cls, reference, caller)
    if holder is None:
        raise UnknownReferenceError(kind_of(cls), reference)
    return await get_owned(source, cls, holder, caller)


async def referenced(
    source: Ledger | LedgerTransaction,
    cls: type[Referenced],
    reference: object,
    caller: Caller,
    *,
    field: str,
) -> Referenced:
    """As `get_referenced`, for a reference a request body holds at `field` (`customer_id`,
    `tax_rate_ids.0`, a dialect's `recipient`): an unknown one is a validation error naming
    that field, which changes nothing."""
    try:
        return await get_referenced(source, cls, str(reference), caller)
    except UnknownReferenceError as error:
        raise InvalidFieldError(str(error), field=field) from None


async def external_id_holder(
    source: Ledger | LedgerTransaction, cls: type[Referenced], external_id: str, caller: Caller
) -> UUID | None:
    """The id of the caller's customer or tax rate (`cls`) with this external_id, if any; text
    that no external_id can be (a NUL, which PostgreSQL refuses as text) is nobody's."""
    try:
        kept = checked_external_id(external_id)
    except InvalidFieldError:
        return None
    if kept is None:
        return None
    if isinstance(source, Ledger):
        async with source.transaction() as tx:
            return await external_id_holder(tx, cls, kept, caller)
    return await source.side_tables.find_external_id(
        caller.account_id, caller.livemode, EXTERNAL_ID_KINDS[cls], kept
    )


def _as_uuid(reference: str) -> UUID | None:
    try:
        return UUID(reference)
    except ValueError:
        return None
