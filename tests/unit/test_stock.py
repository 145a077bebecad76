"""`stock_moves_on` (DESIGN.md §8): which invoice events move stock, and which way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.domain.stock import (
    AMEND,
    DEDUCT,
    RESTORE,
    amendment_moves,
    moves_stock,
    stock_moves_on,
)

MOVED_AT = datetime(2026, 4, 15, 14, 30, tzinfo=UTC)


def _linked_invoice(*, linked: bool = True) -> Invoice:
    item: dict[str, Any] = {"description": "Chair", "quantity": Decimal(2), "unit_price": 5000}
    if linked:
        item["product_id"] = str(uuid4())
    return Invoice.create(
        InvoiceDraft(
            account_id=uuid4(),
            livemode=False,
            document_type="invoice",
            currency="NGN",
            customer={"name": "Ada"},
            items=[item],
            issue_date=date(2026, 4, 1),
        ),
        view_token="token",
    )


def _events(invoice: Invoice) -> list[object]:
    return list(invoice.collect_events())


def test_stock_moves_out_when_a_linked_invoice_is_issued_and_back_when_it_is_voided() -> None:
    invoice = _linked_invoice()
    _events(invoice)
    invoice.finalize(document_number="INV-2026-0001", finalized_at=MOVED_AT)
    [finalized] = _events(invoice)
    assert stock_moves_on(finalized, invoice) == DEDUCT
    invoice.void(reason=None, voided_at=MOVED_AT)
    [voided] = _events(invoice)
    assert stock_moves_on(voided, invoice) == RESTORE


def test_stock_never_moves_for_a_voided_draft_or_on_other_events() -> None:
    draft = _linked_invoice()
    [created] = _events(draft)
    assert stock_moves_on(created, draft) is None
    draft.void(reason=None, voided_at=MOVED_AT)
    [voided] = _events(draft)
    assert stock_moves_on(voided, draft) is None


def test_stock_never_moves_for_lines_not_linked_to_a_product() -> None:
    invoice = _linked_invoice(linked=False)
    _events(invoice)
    invoice.finalize(document_number="INV-2026-0001", finalized_at=MOVED_AT)
    [finalized] = _events(invoice)
    assert not moves_stock(invoice)
    assert stock_moves_on(finalized, invoice) is None


def _issued(invoice: Invoice) -> Invoice:
    invoice.finalize(document_number="INV-2026-0001", finalized_at=MOVED_AT)
    return invoice


def test_an_amendment_of_linked_lines_moves_stock_by_the_difference() -> None:
    invoice = _issued(_linked_invoice())
    chair = invoice.items[0]
    table = {"description": "Table", "quantity": Decimal(1), "unit_price": 9000}
    table["product_id"] = str(uuid4())
    _events(invoice)

    invoice.amend(
        {"items": [chair | {"quantity": Decimal(5)}, table]}, amended_at=MOVED_AT, reason=None
    )
    (amended,) = _events(invoice)

    assert stock_moves_on(amended, invoice) == AMEND
    assert isinstance(amended, Invoice.Amended)
    moves = amendment_moves(amended.previous["items"], amended.changes["items"])
    assert moves == {chair["product_id"]: 3, table["product_id"]: 1}


def test_an_amendment_that_drops_a_linked_line_gives_its_units_back() -> None:
    chair = _issued(_linked_invoice()).items[0]
    plain = {"description": "Chair", "quantity": Decimal(2), "unit_price": 5000}

    assert amendment_moves([chair], [plain]) == {chair["product_id"]: -2}
    assert amendment_moves([chair], [dict(chair)]) == {}


def test_an_amendment_of_unlinked_lines_or_of_no_lines_moves_no_stock() -> None:
    plain = _issued(_linked_invoice(linked=False))
    linked = _issued(_linked_invoice())
    _events(plain)
    _events(linked)

    plain.amend(
        {"items": [plain.items[0] | {"quantity": Decimal(3)}]}, amended_at=MOVED_AT, reason=None
    )
    linked.amend({"note": "Delivered", "shipping_fee": 500}, amended_at=MOVED_AT, reason=None)

    assert stock_moves_on(_events(plain)[0], plain) is None
    assert stock_moves_on(_events(linked)[0], linked) is None
