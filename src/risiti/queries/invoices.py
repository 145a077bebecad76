"""Reading one invoice, by id or by document number, as its account sees it (lists of
invoices are read from their read model, `risiti.projections.invoice_list`)."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.caller import Caller, get_owned
from risiti.commands.errors import NotFoundError
from risiti.commands.ledger import Ledger
from risiti.domain.invoice import Invoice
from risiti.eventstore import invoice_keys


async def get_invoice(ledger: Ledger, caller: Caller, id_or_number: str) -> Invoice:
    """An invoice of the caller's account and mode, by id or by document number."""
    invoice_id = await resolve_invoice_id(ledger, caller, id_or_number)
    return await get_owned(ledger, Invoice, invoice_id, caller, named=id_or_number)


async def resolve_invoice_id(ledger: Ledger, caller: Caller, id_or_number: str) -> UUID:
    """Turn what a URL names (an id, a document number, or the public id its hosted page is
    named by, as Kredo's `public_id`) into an invoice id; whose it is, `get_owned` checks."""
    try:
        return UUID(id_or_number)
    except ValueError:
        if "\x00" in id_or_number:  # no number holds one, and PostgreSQL refuses it as text
            raise NotFoundError("invoice", id_or_number.replace("\x00", "")) from None
        async with ledger.connection() as conn:
            found = await invoice_keys.find_invoice_by_number(
                conn, caller.account_id, caller.livemode, id_or_number
            ) or await invoice_keys.find_invoice_by_token(conn, id_or_number)
        if found is None:
            raise NotFoundError("invoice", id_or_number) from None
        return found
