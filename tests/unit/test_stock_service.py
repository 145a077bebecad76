"""Stock through the service layer without a database: adjustments, and the inventory jobs that
move an invoice's stock (DESIGN.md §8), run through the `Ledger` on the in-memory recorder.

The dispatcher keeps an inventory job when an invoice is issued or voided; here the test keeps
it through the unit of work's side tables, as the dispatcher would, and settles it as the
worker does (`settle_invoice_stock`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from risiti.commands.accounts import UpdateAccount, update_account
from risiti.commands.caller import Caller
from risiti.commands.inventory import settle_invoice_stock
from risiti.commands.invoices import (
    AmendInvoice,
    CreateInvoice,
    VoidInvoice,
    amend_invoice,
    create_invoice,
    void_invoice,
)
from risiti.commands.ledger import Ledger
from risiti.commands.products import AdjustStock, CreateProduct, adjust_stock, create_product
from risiti.domain.account import Account
from risiti.domain.errors import InsufficientStockError
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.domain.product import Product
from risiti.domain.stock import AMEND, DEDUCT, RESTORE
from risiti.eventstore.memory import MemoryRecorder

pytestmark = pytest.mark.asyncio


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(MemoryRecorder(), actor="key_test")


async def _caller(ledger: Ledger) -> Caller:
    """A caller of an account in the log (its keys are not needed here)."""
    account = Account.open("Mama Put Kitchen")
    async with ledger.transaction() as tx:
        await tx.save(account, account_id=account.id, livemode=None)
    return Caller(account.id, False, "key_test")


async def _product(ledger: Ledger, caller: Caller, stock: int) -> Product:
    return await create_product(
        ledger,
        CreateProduct(caller, sku="JOLLOF-1", name="Jollof rice", unit_price=2500, stock=stock),
    )


async def _sell(ledger: Ledger, caller: Caller, quantity: int, **line: object) -> Invoice:
    """Issue an invoice with one line linked to a product (by `product_id` or `sku`)."""
    draft = InvoiceDraft(
        account_id=caller.account_id,
        livemode=caller.livemode,
        document_type="invoice",
        currency="NGN",
        customer={"name": "AfriTech Solutions"},
        items=[{"quantity": Decimal(quantity), **line}],
        issue_date=date(2026, 4, 15),
    )
    return await create_invoice(ledger, CreateInvoice(caller, draft))


async def _settle(ledger: Ledger, invoice: Invoice, kind: str, job_id: UUID | None = None) -> bool:
    """Keep an inventory job for the invoice, as the dispatcher does, and settle it."""
    job_id = job_id or uuid4()
    async with ledger.transaction() as tx:
        await tx.side_tables.add_inventory_job(job_id, invoice.id, kind)
    return await settle_invoice_stock(ledger, job_id)


async def _stock(ledger: Ledger, product: Product) -> int:
    return (await ledger.get(Product, product.id)).stock


async def test_an_adjustment_sent_twice_with_one_reference_applies_once(ledger: Ledger) -> None:
    caller = await _caller(ledger)
    product = await _product(ledger, caller, stock=10)
    restock = AdjustStock(caller, product.id, delta=5, reason="restock", reference="PO-881")

    first = await adjust_stock(ledger, restock)
    again = await adjust_stock(ledger, restock)

    assert (first.replayed, again.replayed) == (False, True)
    assert (first.stock_after, again.stock_after) == (15, 15)
    assert again.created_at == first.created_at
    assert await _stock(ledger, product) == 15


async def test_issuing_an_invoice_deducts_its_lines_stock_once(ledger: Ledger) -> None:
    caller = await _caller(ledger)
    product = await _product(ledger, caller, stock=10)
    invoice = await _sell(ledger, caller, 3, sku="JOLLOF-1")
    job_id = uuid4()

    assert await _settle(ledger, invoice, DEDUCT, job_id)
    assert not await settle_invoice_stock(ledger, job_id)  # the same job again: done already
    assert await _settle(ledger, invoice, DEDUCT)  # another job for it: its line moved already

    assert invoice.items[0]["product_id"] == product.id
    assert await _stock(ledger, product) == 7


async def test_voiding_an_issued_invoice_restores_its_stock(ledger: Ledger) -> None:
    caller = await _caller(ledger)
    product = await _product(ledger, caller, stock=10)
    invoice = await _sell(ledger, caller, 4, product_id=product.id)
    await _settle(ledger, invoice, DEDUCT)
    await void_invoice(ledger, VoidInvoice(caller, invoice.id, reason="order cancelled"))

    await _settle(ledger, invoice, RESTORE)
    await _settle(ledger, invoice, RESTORE)

    assert (await _stock(ledger, product), (await ledger.get(Invoice, invoice.id)).status) == (
        10,
        "void",
    )


async def test_stock_cannot_go_negative_unless_the_account_allows_it(ledger: Ledger) -> None:
    caller = await _caller(ledger)
    product = await _product(ledger, caller, stock=2)

    with pytest.raises(InsufficientStockError):
        await adjust_stock(ledger, AdjustStock(caller, product.id, delta=-3))
    oversold = await _sell(ledger, caller, 5, product_id=product.id)
    await _settle(ledger, oversold, DEDUCT)
    assert await _stock(ledger, product) == 0  # a sale takes only what there is

    await update_account(ledger, UpdateAccount(caller, allow_negative_stock=True))
    await adjust_stock(ledger, AdjustStock(caller, product.id, delta=-3))
    await _settle(ledger, await _sell(ledger, caller, 5, product_id=product.id), DEDUCT)

    assert await _stock(ledger, product) == -8


async def _amend(ledger: Ledger, caller: Caller, invoice: Invoice, quantity: int) -> Invoice:
    """Amend the invoice's one line to `quantity` units of the same product."""
    line = {"quantity": Decimal(quantity), "product_id": invoice.items[0]["product_id"]}
    return await amend_invoice(ledger, AmendInvoice(caller, invoice.id, changes={"items": [line]}))


async def test_amending_an_issued_invoice_moves_its_stock_by_the_difference(
    ledger: Ledger,
) -> None:
    caller = await _caller(ledger)
    product = await _product(ledger, caller, stock=10)
    invoice = await _sell(ledger, caller, 3, product_id=product.id)
    await _settle(ledger, invoice, DEDUCT)

    more = await _amend(ledger, caller, invoice, 5)
    assert await _settle(ledger, more, AMEND)
    assert await _stock(ledger, product) == 5

    fewer = await _amend(ledger, caller, invoice, 1)
    assert await _settle(ledger, fewer, AMEND)
    assert await _settle(ledger, fewer, AMEND)  # another job for it: its amendments moved already
    assert await _stock(ledger, product) == 9

    await void_invoice(ledger, VoidInvoice(caller, invoice.id))
    await _settle(ledger, invoice, RESTORE)
    await _settle(ledger, invoice, RESTORE)
    assert await _stock(ledger, product) == 10


async def test_an_amendment_waits_for_its_invoice_s_deduction(ledger: Ledger) -> None:
    caller = await _caller(ledger)
    product = await _product(ledger, caller, stock=10)
    invoice = await _sell(ledger, caller, 3, product_id=product.id)
    amended = await _amend(ledger, caller, invoice, 5)
    deduction, amendment = uuid4(), uuid4()
    async with ledger.transaction() as tx:
        await tx.side_tables.add_inventory_job(deduction, invoice.id, DEDUCT)
        await tx.side_tables.add_inventory_job(amendment, amended.id, AMEND)

    assert not await settle_invoice_stock(ledger, amendment)  # left pending: nothing moved
    assert await _stock(ledger, product) == 10
    assert await settle_invoice_stock(ledger, deduction)  # the lines as issued: 3
    assert await _stock(ledger, product) == 7
    assert await settle_invoice_stock(ledger, amendment)  # swept up again: 2 more
    assert await _stock(ledger, product) == 5


async def test_an_amendment_gives_back_no_more_than_the_invoice_took(ledger: Ledger) -> None:
    caller = await _caller(ledger)
    product = await _product(ledger, caller, stock=2)
    invoice = await _sell(ledger, caller, 5, product_id=product.id)
    await _settle(ledger, invoice, DEDUCT)  # takes only the 2 there are
    unlinked = [{"description": "Jollof rice", "quantity": Decimal(5), "unit_price": 2500}]

    amended = await amend_invoice(
        ledger, AmendInvoice(caller, invoice.id, changes={"items": unlinked})
    )
    await _settle(ledger, amended, AMEND)

    assert await _stock(ledger, product) == 2


async def test_an_amendment_settled_after_the_void_moves_nothing(ledger: Ledger) -> None:
    caller = await _caller(ledger)
    product = await _product(ledger, caller, stock=10)
    invoice = await _sell(ledger, caller, 3, product_id=product.id)
    await _settle(ledger, invoice, DEDUCT)
    amended = await _amend(ledger, caller, invoice, 6)
    await void_invoice(ledger, VoidInvoice(caller, invoice.id))

    await _settle(ledger, invoice, RESTORE)
    await _settle(ledger, amended, AMEND)

    assert await _stock(ledger, product) == 10
