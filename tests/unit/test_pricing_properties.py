"""Properties of invoice pricing that must hold for any invoice (DESIGN.md §5)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from risiti.domain.money import Money, allocate
from risiti.domain.pricing import Discount, InvoiceTotals, LineInput, PricedLine, Tax, price_invoice

CURRENCIES = ("NGN", "USD", "KES", "XOF", "UGX", "KWD")
HALF = Fraction(1, 2)
FAST = settings(max_examples=150, deadline=None)

Invoice = tuple[list[LineInput], Discount | None, int, tuple[Tax, ...]]


def four_places(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=4)


taxes = st.builds(Tax, percentage=four_places("0", "100"), inclusive=st.booleans())
lines = st.builds(
    LineInput,
    quantity=four_places("0.0001", "10000"),
    unit_price=st.integers(min_value=0, max_value=10**9),
    taxes=st.lists(taxes, max_size=3).map(tuple),
)
exclusive_taxes = st.lists(st.builds(Tax, percentage=four_places("0", "100")), max_size=2)


@st.composite
def invoices(draw: st.DrawFn) -> Invoice:
    items = draw(st.lists(lines, min_size=1, max_size=5))
    discount = draw(discounts(sum(line_amount_of(item) for item in items)))
    shipping_fee = draw(st.integers(min_value=0, max_value=10**7))
    return items, discount, shipping_fee, tuple(draw(exclusive_taxes))


def discounts(subtotal: int) -> st.SearchStrategy[Discount | None]:
    percentage = four_places("0", "100").map(lambda value: Discount("percentage", value))
    amount = st.integers(0, subtotal).map(lambda value: Discount("amount", value))
    return st.none() | percentage | amount


def line_amount_of(item: LineInput) -> int:
    return price_invoice([item]).subtotal


def priced(invoice: Invoice) -> InvoiceTotals:
    items, discount, shipping_fee, shipping_taxes = invoice
    return price_invoice(
        items, discount=discount, shipping_fee=shipping_fee, shipping_taxes=shipping_taxes
    )


def inclusive_rate(item: LineInput) -> Fraction:
    return sum((Fraction(tax.percentage) for tax in item.taxes if tax.inclusive), Fraction(0))


@FAST
@given(invoices(), st.sampled_from(CURRENCIES))
def test_totals_equal_the_sum_of_their_parts(invoice: Invoice, currency: str) -> None:
    totals = priced(invoice)
    money = [Money(priced_line.net, currency) for priced_line in totals.lines]
    net = sum(money, Money.zero(currency))
    added = Money(totals.tax_total + totals.shipping_fee, currency)
    assert net + added == Money(totals.total, currency)
    assert Money(totals.total, currency).format()


@FAST
@given(invoices())
def test_total_recomputes_from_the_line_fields(invoice: Invoice) -> None:
    totals = priced(invoice)
    lines_total = sum(
        line.amount - line.discount_amount + line.exclusive_tax for line in totals.lines
    )
    assert totals.total == lines_total + totals.shipping_fee + totals.shipping_tax
    assert totals.subtotal == sum(line.amount for line in totals.lines)
    assert totals.discount_total == sum(line.discount_amount for line in totals.lines)
    assert totals.tax_inclusive_total == sum(line.inclusive_tax for line in totals.lines)


@FAST
@given(invoices())
def test_no_amount_is_negative(invoice: Invoice) -> None:
    totals = priced(invoice)
    for line in totals.lines:
        assert min(line.amount, line.discount_amount, line.exclusive_tax, line.inclusive_tax) >= 0
        assert line.net >= 0
        assert line.inclusive_tax <= line.net
    assert min(totals.subtotal, totals.tax_total, totals.shipping_tax, totals.total) >= 0


@FAST
@given(invoices())
def test_inclusive_tax_is_the_rounded_contained_share(invoice: Invoice) -> None:
    totals = priced(invoice)
    for item, line in zip(invoice[0], totals.lines, strict=True):
        rate = inclusive_rate(item)
        exact = line.net * rate / (100 + rate)
        assert abs(line.inclusive_tax - exact) <= HALF


@FAST
@given(invoices())
def test_exclusive_tax_is_within_half_a_unit_per_tax(invoice: Invoice) -> None:
    totals = priced(invoice)
    for item, line in zip(invoice[0], totals.lines, strict=True):
        added = [Fraction(tax.percentage) for tax in item.taxes if not tax.inclusive]
        exact = (line.net - line.inclusive_tax) * sum(added, Fraction(0)) / 100
        assert abs(line.exclusive_tax - exact) <= HALF * len(added)


@FAST
@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8),
)
def test_allocate_sums_to_the_total_and_stays_within_one_of_each_share(
    total: int, weights: list[int]
) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        share = Fraction(total * weight, whole) if whole else Fraction(total, len(weights))
        assert part >= 0
        assert abs(part - share) < 1


@FAST
@given(st.lists(lines, min_size=1, max_size=5), st.data())
def test_amount_discount_parts_never_exceed_their_line(
    items: list[LineInput], data: st.DataObject
) -> None:
    subtotal = price_invoice(items).subtotal
    value = data.draw(st.integers(0, subtotal))
    totals = price_invoice(items, discount=Discount("amount", value))
    assert totals.discount_total == value
    assert all(line.discount_amount <= line.amount for line in totals.lines)


def test_priced_line_net_is_amount_less_discount() -> None:
    assert PricedLine(10, 3, 1, 2).net == 7
    assert PricedLine(10, 3, 1, 2).tax_amount == 3
