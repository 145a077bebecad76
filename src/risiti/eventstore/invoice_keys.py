"""What finds an invoice besides its id, each unique: its document number, its hosted-page
token and the Paystack charges recorded on it; and the counters new numbers are taken from.

Numbers and tokens are written with the events that give them (`commands/side_tables.py`); a
number is taken from its counter before, since the Finalized event carries it.
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

import asyncpg

from risiti.eventstore.row_writes import RowWrite

_SAVE_TOKEN = "INSERT INTO invoice_tokens (token, invoice_id) VALUES ($1, $2)"
_SAVE_NUMBER = (
    "INSERT INTO invoice_numbers (account_id, livemode, document_number, invoice_id)"
    " VALUES ($1, $2, $3, $4)"
)


async def take_next_number(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, prefix: str, year: int
) -> int:
    """The next number of a series. The counter's row stays locked until the transaction ends,
    so a rolled-back finalization gives its number back and the series has no gaps."""
    number: int = await conn.fetchval(
        "INSERT INTO document_numbers (account_id, livemode, prefix, year, last_number)"
        " VALUES ($1, $2, $3, $4, 1)"
        " ON CONFLICT (account_id, livemode, prefix, year)"
        " DO UPDATE SET last_number = document_numbers.last_number + 1"
        " RETURNING last_number",
        account_id,
        livemode,
        prefix,
        year,
    )
    return number


def invoice_token_row(token: str, invoice_id: UUID) -> RowWrite:
    """The token's row, written with the invoice's events."""
    return RowWrite(_SAVE_TOKEN, (token, invoice_id), "invoice_tokens")


async def find_invoice_by_token(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> UUID | None:
    invoice_id: UUID | None = await conn.fetchval(
        "SELECT invoice_id FROM invoice_tokens WHERE token = $1", token
    )
    return invoice_id


def invoice_number_row(account_id: UUID, livemode: bool, number: str, invoice_id: UUID) -> RowWrite:
    """The number's row, written with the events that give it; RowTakenError(number) from the
    append if another invoice of the account and mode holds it."""
    return RowWrite(
        _SAVE_NUMBER, (account_id, livemode, number, invoice_id), "invoice_numbers", taken=number
    )


async def find_invoice_by_number(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, livemode: bool, number: str
) -> UUID | None:
    invoice_id: UUID | None = await conn.fetchval(
        "SELECT invoice_id FROM invoice_numbers"
        " WHERE account_id = $1 AND livemode = $2 AND document_number = $3",
        account_id,
        livemode,
        number,
    )
    return invoice_id


class NumberedInvoice(NamedTuple):
    account_id: UUID
    livemode: bool
    invoice_id: UUID


async def find_invoices_numbered(
    conn: asyncpg.Connection | asyncpg.Pool,
    number: str,
    account_id: UUID | None = None,
    livemode: bool | None = None,
) -> list[NumberedInvoice]:
    """Every invoice with a document number, in any account and mode unless narrowed: numbers
    are unique per account, mode and series only (operators' tools, `risiti history`)."""
    rows = await conn.fetch(
        "SELECT account_id, livemode, invoice_id FROM invoice_numbers WHERE document_number = $1"
        " AND ($2::uuid IS NULL OR account_id = $2) AND ($3::boolean IS NULL OR livemode = $3)"
        " ORDER BY account_id, livemode",
        number,
        account_id,
        livemode,
    )
    return [NumberedInvoice(**row) for row in rows]


async def claim_paystack_reference(
    conn: asyncpg.Connection, reference: str, invoice_id: UUID
) -> bool:
    """Note a Paystack charge as recorded; False if it already was (in a committed transaction,
    or in one still open, which this waits for)."""
    inserted: UUID | None = await conn.fetchval(
        "INSERT INTO paystack_payments (reference, invoice_id) VALUES ($1, $2)"
        " ON CONFLICT (reference) DO NOTHING RETURNING invoice_id",
        reference,
        invoice_id,
    )
    return inserted is not None
