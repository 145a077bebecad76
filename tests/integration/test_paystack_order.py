"""A Paystack delivery claims its reference (its transaction's first write, hence its xid)
before it reads the invoice. A payment recorded on that invoice in between, by a younger
transaction, makes the delivery's transaction too old to append after it (DESIGN.md §3): the
delivery is run again whole, in a new transaction, and records its payment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import pytest

from .conftest import Api, wait_until
from .http_calls import call
from .test_paystack_api import TOTAL, charge_success, new_invoice, paystack_key, signed

pytestmark = pytest.mark.asyncio

__all__ = ["paystack_key"]  # the fixture, shared with the Paystack API tests

HELD = 734_112
"""The advisory lock a claim of a `HELD-…` reference waits for, right after its insert."""


@pytest.fixture
async def held_claims(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection holding HELD: while it does, a claim of a HELD-… reference has taken its
    xid and waits; released, it goes on. Other references are not held."""
    await pool.execute(
        "CREATE FUNCTION test_hold_claim() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN PERFORM pg_advisory_lock({HELD}); PERFORM pg_advisory_unlock({HELD});"
        " RETURN NEW; END $$;"
        " CREATE TRIGGER test_hold_claim AFTER INSERT ON paystack_payments FOR EACH ROW"
        " WHEN (NEW.reference LIKE 'HELD-%') EXECUTE FUNCTION test_hold_claim();"
    )
    try:
        async with pool.acquire() as holder:
            await holder.execute(f"SELECT pg_advisory_lock({HELD})")
            try:
                yield holder
            finally:
                await holder.execute("SELECT pg_advisory_unlock_all()")
    finally:
        await pool.execute(
            "DROP TRIGGER test_hold_claim ON paystack_payments; DROP FUNCTION test_hold_claim()"
        )


async def _claim_waiting(pool: asyncpg.Pool) -> bool:
    waiting: int = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND wait_event = 'advisory' AND query LIKE 'INSERT INTO paystack_payments%'"
    )
    return waiting > 0


async def _versions_in_log_order(pool: asyncpg.Pool, invoice_id: str) -> list[int]:
    rows = await pool.fetch(
        "SELECT originator_version FROM events WHERE originator_id = $1"
        " ORDER BY transaction_id, position",
        UUID(invoice_id),
    )
    return [row["originator_version"] for row in rows]


async def test_a_delivery_overtaken_by_a_payment_is_run_again_and_recorded(
    api: Api, paystack_key: str, pool: asyncpg.Pool, held_claims: asyncpg.Connection
) -> None:
    invoice = await new_invoice(api, accept_partial_payments=True)
    event = charge_success(
        {"invoice_id": invoice["id"]}, amount=TOTAL - 1000, reference="HELD-PSK-1"
    )
    delivery = asyncio.create_task(signed(api, paystack_key, event))
    await wait_until(lambda: _claim_waiting(pool))

    # Meanwhile the business records a payment by hand; then the claim goes on.
    manual = await call(api, "POST", f"/v1/invoices/{invoice['id']}/payments", {"amount": 1000})
    assert manual.status in (200, 201), manual.body
    await held_claims.execute(f"SELECT pg_advisory_unlock({HELD})")
    answer = await delivery

    assert answer.status == 200, answer.body
    assert (answer.data["recorded"], answer.data["invoice_status"]) == (True, "paid")
    read = (await call(api, "GET", f"/v1/invoices/{invoice['id']}")).data
    assert [(p["amount"], p["reference"]) for p in read["payments"]] == [
        (1000, None),
        (TOTAL - 1000, "HELD-PSK-1"),
    ]
    versions = await _versions_in_log_order(pool, invoice["id"])
    assert versions == list(range(1, len(versions) + 1))
