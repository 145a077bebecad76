"""The bounds of docs/api.md ("Bounds") in the domain: an invoice whose figures would pass them
is refused naming the field, before any event exists; any invoice accepted stays within them and
encodes as the read models store it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risiti.domain.bounds import MAX_AMOUNT, MAX_QUANTITY
from risiti.domain.errors import InvalidInvoiceError
from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.domain.pricing import LineInput, price_invoice
from risiti.presentation.documents import invoice_record, record_json


def _draft(items: list[dict[str, Any]], **fields: Any) -> InvoiceDraft:
    return InvoiceDraft(
        account_id=uuid4(),
        livemode=False,
        document_type="invoice",
        currency="NGN",
        customer={"name": "Ada"},
        items=items,
        issue_date=date(2026, 5, 1),
        **fields,
    )


def _line(quantity: int | str, unit_price: int) -> dict[str, Any]:
    return {"description": "x", "quantity": Decimal(quantity), "unit_price": unit_price}


def test_ten_lines_of_ten_thousand_at_the_largest_price_are_refused_at_the_first_line() -> None:
    draft = _draft([_line(10_000, MAX_AMOUNT) for _ in range(10)])

    with pytest.raises(InvalidInvoiceError) as refused:
        Invoice.create(draft, view_token="tok")

    assert refused.value.field == "items.0.unit_price"


@pytest.mark.parametrize(
    ("items", "fields", "field"),
    [
        ([_line(1, MAX_AMOUNT), _line(1, 1)], {}, "subtotal"),
        ([_line(1, MAX_AMOUNT)], {"shipping_fee": 1}, "total"),
        ([_line(1, MAX_AMOUNT)], {"taxes": [{"percentage": Decimal("7.5")}]}, "total"),
        ([_line(1, MAX_AMOUNT + 1)], {}, "items.0.unit_price"),
        ([_line(MAX_QUANTITY + 1, 0)], {}, "items.0.quantity"),
        ([_line(1, 1)], {"shipping_fee": MAX_AMOUNT + 1}, "shipping_fee"),
        ([_line(1, 1)], {"discount": {"type": "amount", "value": MAX_AMOUNT + 1}}, "discount"),
    ],
    ids=["subtotal", "shipping", "tax", "price", "quantity", "shipping-fee", "discount"],
)
def test_a_figure_past_the_bound_is_refused_naming_it(
    items: list[dict[str, Any]], fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInvoiceError) as refused:
        Invoice.create(_draft(items, **fields), view_token="tok")

    assert refused.value.field == field


def test_an_invoice_at_the_bound_exactly_is_accepted() -> None:
    invoice = Invoice.create(_draft([_line(1, MAX_AMOUNT - 1)], shipping_fee=1), view_token="tok")

    assert invoice.totals.total == MAX_AMOUNT


def test_a_draft_updated_past_the_bound_is_refused_and_keeps_its_lines() -> None:
    invoice = Invoice.create(_draft([_line(1, 100)]), view_token="tok")

    with pytest.raises(InvalidInvoiceError) as refused:
        invoice.update({"items": [_line(10_000, MAX_AMOUNT)]})

    assert (refused.value.field, invoice.totals.total) == ("items.0.unit_price", 100)
    assert len(invoice.pending_events) == 1


def test_an_invoice_recorded_before_the_bounds_is_still_priced() -> None:
    # Followers price the log again without checks: history past a bound must stay readable.
    totals = price_invoice([LineInput(Decimal(10_000), MAX_AMOUNT)], check=False)

    assert totals.total == 10_000 * MAX_AMOUNT


def _scaled(top: int) -> st.SearchStrategy[int]:
    """Integers spread over every order of magnitude up to `top`, not only near it."""
    return st.integers(0, 15).flatmap(lambda power: st.integers(0, min(top, 10**power)))


quantities = st.integers(1, 13).flatmap(
    lambda power: st.decimals(
        min_value=Decimal("0.0001"), max_value=Decimal(10) ** (power - 4), places=4
    )
)
taxes = st.builds(
    lambda percentage, inclusive: {"percentage": percentage, "inclusive": inclusive},
    st.decimals(min_value=0, max_value=100, places=4),
    st.booleans(),
)
items = st.lists(
    st.builds(
        lambda quantity, price, line_taxes: {
            "description": "x",
            "quantity": quantity,
            "unit_price": price,
            "taxes": line_taxes,
        },
        quantities,
        _scaled(MAX_AMOUNT),
        st.lists(taxes, max_size=2),
    ),
    min_size=1,
    max_size=10,
)
discounts = st.none() | st.builds(
    lambda kind, value: {"type": kind, "value": value if kind == "amount" else value % 101},
    st.sampled_from(["amount", "percentage"]),
    _scaled(MAX_AMOUNT),
)


@settings(max_examples=300, deadline=None)
@given(items, discounts, _scaled(MAX_AMOUNT), st.lists(taxes, max_size=2))
def test_any_accepted_invoice_stays_within_the_bound_and_encodes(
    lines: list[dict[str, Any]],
    discount: dict[str, Any] | None,
    shipping_fee: int,
    invoice_taxes: list[dict[str, Any]],
) -> None:
    draft = _draft(lines, discount=discount, shipping_fee=shipping_fee, taxes=invoice_taxes)
    try:
        invoice = Invoice.create(draft, view_token="tok")
    except InvalidInvoiceError:
        return

    totals = invoice.totals
    figures = [totals.subtotal, totals.discount_total, totals.tax_total, totals.total]
    figures += [totals.tax_inclusive_total, totals.shipping_fee, totals.shipping_tax]
    for line in totals.lines:
        figures += [line.amount, line.discount_amount, line.tax_amount]
    assert all(0 <= figure <= MAX_AMOUNT for figure in figures), figures
    assert orjson.loads(record_json(invoice_record(invoice)))["total"] == totals.total
