"""The ledger turns the store's per-aggregate order refusal (DESIGN.md §3) into a retry on fresh
state in a new transaction: a command whose transaction took its xid before another appended to
its aggregate decides again, and followers see the versions in order."""

from __future__ import annotations

import secrets
from uuid import UUID, uuid4

import asyncpg
import pytest

from risiti.commands.errors import TransactionTooOldError
from risiti.commands.ledger import (
    Ledger,
    check_version,
    retry_in_new_transaction,
    retry_on_conflict,
    run_at_version,
)
from risiti.domain.product import Product
from risiti.eventstore.recorder import LOG_START, LogPosition, read_log

from .conftest import wait_until

pytestmark = pytest.mark.asyncio


async def _stocked_product(ledger: Ledger, stock: int) -> Product:
    product = Product.create(
        account_id=uuid4(),
        livemode=False,
        sku=f"SKU-{secrets.token_hex(3)}",
        name="Rice, 50 kg",
        unit_price=7_500_000,
        currency="NGN",
        stock=stock,
    )
    async with ledger.transaction() as tx:
        await tx.save(product, account_id=product.account_id, livemode=False)
    return product


async def _adjust(ledger: Ledger, product_id: UUID, delta: int) -> Product:
    """One stock adjustment in a transaction of its own (ledger not joined) or in a savepoint
    of the joined one."""
    async with ledger.transaction() as tx:
        product = await tx.get(Product, product_id)
        product.adjust(delta, reason="adjustment", reference=None, allow_negative=False)
        await tx.save(product, account_id=product.account_id, livemode=False)
    return product


async def _head(pool: asyncpg.Pool) -> LogPosition:
    async with pool.acquire() as conn:
        records = await read_log(conn, LOG_START, 1_000_000)
    return records[-1].log_position if records else LOG_START


async def _versions_followers_see(
    pool: asyncpg.Pool, after: LogPosition, product_id: UUID, count: int
) -> list[int]:
    async def seen() -> list[int]:
        async with pool.acquire() as conn:
            records = await read_log(conn, after, 10_000)
        # v1 may show after `after` too: the xid horizon is the cluster's, and another
        # database's open transaction can hold the creation back past the head taken then.
        versions = [
            r.originator_version
            for r in records
            if r.originator_id == product_id and r.originator_version > 1
        ]
        return versions if len(versions) >= count else []

    return await wait_until(seen)  # type: ignore[no-any-return]


async def _take_xid(conn: asyncpg.Connection) -> None:
    """A first write of the transaction, as a job claiming its row or a reference row."""
    await conn.fetchval("SELECT pg_current_xact_id()")


async def test_a_command_whose_transaction_took_its_xid_too_early_is_retried_fresh(
    ledger: Ledger, pool: asyncpg.Pool
) -> None:
    product = await _stocked_product(ledger, 10)
    start = await _head(pool)
    attempts = 0

    async def sell_three() -> Product:
        nonlocal attempts
        attempts += 1
        async with ledger.transaction() as tx:
            await _take_xid(tx.conn)
            if attempts == 1:
                await _adjust(ledger, product.id, 5)  # another transaction appends v2
            fresh = await tx.get(Product, product.id)
            fresh.adjust(-3, reason="adjustment", reference=None, allow_negative=False)
            await tx.save(fresh, account_id=fresh.account_id, livemode=False)
            return fresh

    sold = await retry_on_conflict(sell_three)

    assert attempts == 2
    assert (sold.version, sold.stock) == (3, 12)
    assert await _versions_followers_see(pool, start, product.id, 2) == [2, 3]


async def test_an_if_match_command_refused_for_its_transaction_age_alone_is_retried(
    ledger: Ledger,
) -> None:
    product = await _stocked_product(ledger, 10)
    attempts = 0

    async def at_version_two() -> Product:
        nonlocal attempts
        attempts += 1
        async with ledger.transaction() as tx:
            await _take_xid(tx.conn)
            if attempts == 1:
                # The version the caller names is appended, by a younger transaction, only
                # now: it is current, and the refusal is about this transaction's age alone.
                await _adjust(ledger, product.id, 1)
            fresh = await tx.get(Product, product.id)
            check_version(fresh, 2)
            fresh.adjust(-1, reason="adjustment", reference=None, allow_negative=False)
            await tx.save(fresh, account_id=fresh.account_id, livemode=False)
            return fresh

    changed = await run_at_version(at_version_two, 2)

    assert attempts == 2
    assert (changed.version, changed.stock) == (3, 10)


async def test_a_joined_transaction_too_old_to_append_is_run_again_whole(
    ledger: Ledger, pool: asyncpg.Pool
) -> None:
    product = await _stocked_product(ledger, 10)
    start = await _head(pool)
    runs: list[int] = []

    async def request() -> Product:
        """As the Idempotency-Key middleware or a Paystack delivery runs a command: its own
        transaction, a row written first, then the command through a joined ledger."""
        runs.append(0)
        async with pool.acquire() as conn, conn.transaction():
            await _take_xid(conn)
            if len(runs) == 1:
                await _adjust(ledger, product.id, 5)

            async def sell_three() -> Product:
                runs[-1] += 1
                return await _adjust(ledger.joining(conn), product.id, -3)

            return await retry_on_conflict(sell_three)

    sold = await retry_in_new_transaction(request)

    # The first run's savepoint gave up at once: retried there it kept the old xid.
    assert runs == [1, 1]
    assert (sold.version, sold.stock) == (3, 12)
    assert await _versions_followers_see(pool, start, product.id, 2) == [2, 3]


async def test_a_joined_ledger_reports_its_transaction_too_old_to_its_owner(
    ledger: Ledger, pool: asyncpg.Pool
) -> None:
    product = await _stocked_product(ledger, 10)
    async with pool.acquire() as conn:
        old = conn.transaction()
        await old.start()
        await _take_xid(conn)
        await _adjust(ledger, product.id, 5)

        with pytest.raises(TransactionTooOldError):
            await retry_on_conflict(lambda: _adjust(ledger.joining(conn), product.id, -3))
        await old.rollback()

    assert (await ledger.get(Product, product.id)).stock == 15
