"""The balances read model: what each customer and each account has been invoiced, has paid
and still owes, per currency; overdue amounts and aging are summed from outstanding invoices
at read time, because they change with the day, not with the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate

from risiti.domain.invoice import AGING_BUCKETS, OPEN, PAID, PARTIALLY_PAID, Invoice
from risiti.eventstore.overdue_sql import aging_bucket_sql, past_due_sql
from risiti.projections.invoice_list import INVOICE_TOPICS, customer_id_of, invoices_among

# Issued and not void: what counts towards what a customer was invoiced.
COUNTED = (OPEN, PARTIALLY_PAID, PAID)

_SAVE_CONTRIBUTIONS = """
INSERT INTO invoice_balances (invoice_id, account_id, livemode, customer_id, currency, due_date,
    invoiced, paid, outstanding)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::boolean[], $4::uuid[], $5::text[], $6::date[],
    $7::bigint[], $8::bigint[], $9::bigint[])
ON CONFLICT (invoice_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,
    currency = EXCLUDED.currency, due_date = EXCLUDED.due_date, invoiced = EXCLUDED.invoiced,
    paid = EXCLUDED.paid, outstanding = EXCLUDED.outstanding
"""
_ADD_TO_BALANCES = """
INSERT INTO balances (account_id, livemode, customer_id, currency, invoiced, paid, outstanding)
SELECT * FROM unnest($1::uuid[], $2::boolean[], $3::uuid[], $4::text[], $5::bigint[],
    $6::bigint[], $7::bigint[])
ON CONFLICT (account_id, livemode, currency, customer_id) DO UPDATE SET
    invoiced = balances.invoiced + EXCLUDED.invoiced, paid = balances.paid + EXCLUDED.paid,
    outstanding = balances.outstanding + EXCLUDED.outstanding
"""
# A sum nothing contributes to any more (a draft moved to another currency or customer, a void)
# is dropped, so that which rows exist never depends on how the log was cut into batches.
_DROP_EMPTY_BALANCES = """
DELETE FROM balances b USING unnest($1::uuid[], $2::boolean[], $3::uuid[], $4::text[])
    AS k(account_id, livemode, customer_id, currency)
WHERE (b.account_id, b.livemode, b.currency) = (k.account_id, k.livemode, k.currency)
    AND b.customer_id IS NOT DISTINCT FROM k.customer_id
    AND (b.invoiced, b.paid, b.outstanding) = (0, 0, 0)
"""

# The sums `write` keeps up to date, added up from scratch (each customer's, then each
# account's), for a rebuild; the property tests hold the two ways to the same result.
_SUM_CONTRIBUTIONS = """
INSERT INTO balances (account_id, livemode, customer_id, currency, invoiced, paid, outstanding)
SELECT account_id, livemode, customer_id, currency, sum(invoiced), sum(paid), sum(outstanding)
FROM invoice_balances WHERE customer_id IS NOT NULL
GROUP BY account_id, livemode, customer_id, currency
HAVING (sum(invoiced), sum(paid), sum(outstanding)) <> (0, 0, 0)
UNION ALL
SELECT account_id, livemode, NULL, currency, sum(invoiced), sum(paid), sum(outstanding)
FROM invoice_balances
GROUP BY account_id, livemode, currency
HAVING (sum(invoiced), sum(paid), sum(outstanding)) <> (0, 0, 0)
"""

_SAVED = (
    "invoice_id",
    "account_id",
    "livemode",
    "customer_id",
    "currency",
    "due_date",
    "invoiced",
    "paid",
    "outstanding",
)
"""invoice_balances' columns, in `_contribution_row`'s order."""

Key = tuple[UUID, bool, UUID | None, str]
Amounts = tuple[int, int, int]


@dataclass(frozen=True)
class Contribution:
    """What one invoice adds to its customer's and its account's balance."""

    invoice_id: UUID
    account_id: UUID
    livemode: bool
    customer_id: UUID | None
    currency: str
    due_date: date | None
    invoiced: int
    paid: int
    outstanding: int

    @classmethod
    def of(cls, invoice: Invoice) -> Contribution:
        counted = invoice.status in COUNTED
        return cls(
            invoice.id,
            invoice.account_id,
            invoice.livemode,
            customer_id_of(invoice),
            invoice.currency,
            invoice.due_date,
            invoice.totals.total if counted else 0,
            invoice.amount_paid if counted else 0,
            invoice.amount_due if counted else 0,
        )

    def balance_keys(self) -> list[Key]:
        """The account's balance, and the customer's when there is one."""
        account: Key = (self.account_id, self.livemode, None, self.currency)
        if self.customer_id is None:
            return [account]
        return [account, (self.account_id, self.livemode, self.customer_id, self.currency)]


class BalancesProjection:
    """Keeps each invoice's contribution and adds the change of it to the sums it is part of."""

    name = "balances"
    tables: tuple[str, ...] = ("invoice_balances", "balances")
    topics: tuple[str, ...] = INVOICE_TOPICS

    def changes(self, aggregates: list[Aggregate]) -> list[Contribution]:
        """What each invoice the batch touched now contributes."""
        return [Contribution.of(invoice) for invoice in invoices_among(aggregates)]

    async def write_once(self, conn: asyncpg.Connection, new: list[Contribution]) -> None:
        """Only the contributions, copied in: writers of other invoices in other processes would
        wait on each other for the sums, which `finish_rebuild` adds up at the end instead."""
        if new:
            await conn.copy_records_to_table(
                "invoice_balances", records=[_contribution_row(c) for c in new], columns=_SAVED
            )

    async def finish_rebuild(self, conn: asyncpg.Connection) -> None:
        await conn.execute(_SUM_CONTRIBUTIONS)

    async def write(self, conn: asyncpg.Connection, new: list[Contribution]) -> None:
        """Replace the invoices' contributions and add the difference to the sums."""
        if not new:
            return
        old = await _contributions(conn, [c.invoice_id for c in new])
        changes: dict[Key, Amounts] = {}
        for contribution, sign in [(c, -1) for c in old] + [(c, 1) for c in new]:
            for key in contribution.balance_keys():
                invoiced, paid, outstanding = changes.get(key, (0, 0, 0))
                changes[key] = (
                    invoiced + sign * contribution.invoiced,
                    paid + sign * contribution.paid,
                    outstanding + sign * contribution.outstanding,
                )
        await conn.execute(_SAVE_CONTRIBUTIONS, *_columns([_contribution_row(c) for c in new]))
        # In one order everywhere, so that writers of the same sums never deadlock.
        moved = sorted(
            (key + amounts for key, amounts in changes.items() if amounts != (0, 0, 0)),
            key=lambda row: (str(row[0]), row[1], row[3], str(row[2] or "")),
        )
        if moved:
            await conn.execute(_ADD_TO_BALANCES, *_columns(moved))
            # Only sums this transaction changed (and so already holds) can have become empty.
            await conn.execute(_DROP_EMPTY_BALANCES, *_columns([row[:4] for row in moved]))


async def _contributions(conn: asyncpg.Connection, invoice_ids: list[UUID]) -> list[Contribution]:
    rows = await conn.fetch(
        "SELECT invoice_id, account_id, livemode, customer_id, currency, due_date, invoiced,"
        " paid, outstanding FROM invoice_balances WHERE invoice_id = ANY($1::uuid[])",
        invoice_ids,
    )
    return [Contribution(**row) for row in rows]


def _contribution_row(c: Contribution) -> tuple[Any, ...]:
    return (
        c.invoice_id,
        c.account_id,
        c.livemode,
        c.customer_id,
        c.currency,
        c.due_date,
        c.invoiced,
        c.paid,
        c.outstanding,
    )


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


@dataclass(frozen=True)
class Balance:
    currency: str
    invoiced: int
    paid: int
    outstanding: int
    overdue: int


async def read_balances(
    conn: asyncpg.Connection | asyncpg.Pool,
    account_id: UUID,
    livemode: bool,
    *,
    customer_id: UUID | None,
    today: date,
) -> list[Balance]:
    """Per currency: the account's balances, or one customer's (`customer_id`). Overdue is
    `is_overdue`: an invoice counts outstanding only while open or partly paid, so
    `outstanding > 0` stands for its status here (and matches the partial index)."""
    rows = await conn.fetch(
        "SELECT b.currency, b.invoiced, b.paid, b.outstanding, coalesce(("
        "   SELECT sum(i.outstanding) FROM invoice_balances i"
        "   WHERE i.account_id = b.account_id AND i.livemode = b.livemode"
        "   AND i.currency = b.currency AND i.outstanding > 0"
        f"   AND {past_due_sql('$4', due_date='i.due_date')}"
        "   AND ($3::uuid IS NULL OR i.customer_id = $3)), 0)::bigint AS overdue"
        " FROM balances b WHERE b.account_id = $1 AND b.livemode = $2"
        " AND b.customer_id IS NOT DISTINCT FROM $3 ORDER BY b.currency",
        account_id,
        livemode,
        customer_id,
        today,
    )
    return [Balance(**row) for row in rows]


_AGING_SUMS = ", ".join(
    f'sum(outstanding) FILTER (WHERE {aging_bucket_sql(bucket, "$3")}) AS "{bucket}"'
    for bucket in AGING_BUCKETS
)


async def read_aging(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, livemode: bool, as_of: date
) -> dict[str, dict[str, int]]:
    """Outstanding amounts per currency by how many days past due they are on `as_of`:
    `current` is what is not past due, the other buckets count days from the first past due."""
    rows = await conn.fetch(
        f"SELECT currency, {_AGING_SUMS}"
        " FROM invoice_balances WHERE account_id = $1 AND livemode = $2 AND outstanding > 0"
        " GROUP BY currency ORDER BY currency",
        account_id,
        livemode,
        as_of,
    )
    return {
        row["currency"]: {bucket: int(row[bucket] or 0) for bucket in AGING_BUCKETS} for row in rows
    }
