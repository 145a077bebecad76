"""Invoice totals (DESIGN.md §5), worked through the seed APIs' examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from risiti.domain.errors import DiscountExceedsSubtotalError, InvalidInvoiceError
from risiti.domain.pricing import (
    ROUNDING_PER_LINE_HALF_UP,
    ROUNDING_RULES,
    Discount,
    InvoiceTotals,
    LineInput,
    PricedLine,
    Tax,
    price_invoice,
)

VAT_5 = Tax(Decimal("5"), name="VAT")
VAT_10 = Tax(Decimal("10"), name="VAT")
VAT_7_5_INCLUSIVE = Tax(Decimal("7.5"), inclusive=True, name="VAT")


def line(quantity: str, unit_price: int, *taxes: Tax) -> LineInput:
    return LineInput(Decimal(quantity), unit_price, taxes)


def assert_recomputable(totals: InvoiceTotals) -> None:
    lines = totals.lines
    assert totals.subtotal == sum(priced.amount for priced in lines)
    assert totals.discount_total == sum(priced.discount_amount for priced in lines)
    assert totals.tax_total == sum(priced.exclusive_tax for priced in lines) + totals.shipping_tax
    assert totals.tax_inclusive_total == sum(priced.inclusive_tax for priced in lines)
    expected = totals.subtotal - totals.discount_total + totals.tax_total + totals.shipping_fee
    assert totals.total == expected


def test_invoice_ng_example_adds_five_percent_tax_per_line() -> None:
    totals = price_invoice([line("1", 150000, VAT_5), line("4", 2500, VAT_5)])
    assert totals.subtotal == 160000
    assert totals.tax_total == 8000
    assert totals.total == 168000
    assert [priced.exclusive_tax for priced in totals.lines] == [7500, 500]
    assert_recomputable(totals)


def test_duplo_example_spreads_the_discount_and_adds_untaxed_shipping() -> None:
    totals = price_invoice(
        [line("50", 100, VAT_10), line("20", 100, VAT_10)],
        discount=Discount("amount", 500),
        shipping_fee=100,
    )
    assert totals.subtotal == 7000
    assert totals.discount_total == 500
    assert totals.tax_total == 650
    assert totals.shipping_fee == 100
    assert totals.total == 7250
    assert sum(priced.discount_amount for priced in totals.lines) == 500
    assert sum(priced.amount for priced in totals.lines) == 7000
    assert_recomputable(totals)


def test_kredo_example_is_the_price_alone() -> None:
    totals = price_invoice([line("1", 250000)])
    assert totals == InvoiceTotals(
        lines=(PricedLine(250000, 0, 0, 0),),
        subtotal=250000,
        discount_total=0,
        tax_total=0,
        tax_inclusive_total=0,
        shipping_fee=0,
        shipping_tax=0,
        total=250000,
    )


def test_inclusive_tax_is_contained_in_the_price_not_added() -> None:
    totals = price_invoice([line("1", 10750, VAT_7_5_INCLUSIVE)])
    assert totals.tax_inclusive_total == 750
    assert totals.lines[0].inclusive_tax == 750
    assert totals.tax_total == 0
    assert totals.total == 10750


def test_exclusive_tax_is_charged_on_the_price_net_of_inclusive_tax() -> None:
    totals = price_invoice([line("1", 10750, VAT_7_5_INCLUSIVE, VAT_10)])
    assert totals.lines[0].inclusive_tax == 750
    assert totals.lines[0].exclusive_tax == 1000
    assert totals.lines[0].tax_amount == 1750
    assert totals.total == 11750


def test_line_amount_rounds_fractional_quantities_half_up() -> None:
    totals = price_invoice([line("0.5", 3), line("1.25", 2)])
    assert [priced.amount for priced in totals.lines] == [2, 3]


def test_percentage_discount_applies_to_each_line_before_tax() -> None:
    totals = price_invoice(
        [line("1", 1005, VAT_10), line("1", 2000, VAT_10)],
        discount=Discount("percentage", Decimal("10")),
    )
    assert [priced.discount_amount for priced in totals.lines] == [101, 200]
    assert [priced.net for priced in totals.lines] == [904, 1800]
    assert [priced.exclusive_tax for priced in totals.lines] == [90, 180]
    assert totals.total == 3005 - 301 + 270
    assert_recomputable(totals)


def test_amount_discount_is_spread_so_parts_sum_to_the_whole() -> None:
    totals = price_invoice(
        [line("1", 100), line("1", 100), line("1", 100)], discount=Discount("amount", 100)
    )
    assert [priced.discount_amount for priced in totals.lines] == [34, 33, 33]
    assert totals.discount_total == 100


def test_amount_discount_equal_to_the_subtotal_leaves_nothing_to_pay() -> None:
    totals = price_invoice([line("2", 500, VAT_10)], discount=Discount("amount", 1000))
    assert totals.total == 0


def test_shipping_tax_is_added_on_the_fee() -> None:
    totals = price_invoice([line("1", 1000)], shipping_fee=2000, shipping_taxes=(VAT_5,))
    assert totals.shipping_tax == 100
    assert totals.tax_total == 100
    assert totals.total == 3100


def test_several_exclusive_taxes_are_rounded_one_by_one() -> None:
    tax_a, tax_b = Tax(Decimal("0.5")), Tax(Decimal("0.5"))
    totals = price_invoice([line("1", 101, tax_a, tax_b)])
    assert totals.lines[0].exclusive_tax == 2


def test_default_rounding_rule_is_known() -> None:
    assert ROUNDING_PER_LINE_HALF_UP in ROUNDING_RULES


def test_unknown_rounding_rule_is_refused() -> None:
    with pytest.raises(ValueError):
        price_invoice([line("1", 1)], rounding="bankers")


def test_amount_discount_above_the_subtotal_is_refused() -> None:
    with pytest.raises(DiscountExceedsSubtotalError) as raised:
        price_invoice([line("1", 100)], discount=Discount("amount", 101))
    assert raised.value.field == "discount"


@pytest.mark.parametrize(
    "discount",
    [
        Discount("percentage", Decimal("100.01")),
        Discount("percentage", Decimal("-1")),
        Discount("amount", -1),
        Discount("amount", Decimal("1.5")),
    ],
)
def test_out_of_range_discount_is_refused(discount: Discount) -> None:
    with pytest.raises(InvalidInvoiceError) as raised:
        price_invoice([line("1", 100)], discount=discount)
    assert raised.value.field == "discount"


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([line("1", -1)], "items.0.unit_price"),
        ([line("1", 1), line("0", 1)], "items.1.quantity"),
        ([line("-1", 1)], "items.0.quantity"),
        ([line("0.00001", 1)], "items.0.quantity"),
        ([line("1", 1, Tax(Decimal("101")))], "items.0.taxes.0.percentage"),
        ([line("1", 1, Tax(Decimal("7.50001")))], "items.0.taxes.0.percentage"),
    ],
)
def test_invalid_line_is_refused_on_its_field(lines: list[LineInput], field: str) -> None:
    with pytest.raises(InvalidInvoiceError) as raised:
        price_invoice(lines)
    assert raised.value.field == field


def test_quantity_with_trailing_zeros_counts_only_significant_places() -> None:
    totals = price_invoice([line("1.500000", 2)])
    assert totals.subtotal == 3


def test_negative_shipping_fee_is_refused() -> None:
    with pytest.raises(InvalidInvoiceError) as raised:
        price_invoice([line("1", 1)], shipping_fee=-1)
    assert raised.value.field == "shipping_fee"


def test_inclusive_shipping_tax_is_refused() -> None:
    with pytest.raises(InvalidInvoiceError) as raised:
        price_invoice([line("1", 1)], shipping_fee=100, shipping_taxes=(VAT_7_5_INCLUSIVE,))
    assert raised.value.field == "shipping_taxes"
