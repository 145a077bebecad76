"""Money in minor units: currency precision, rounding, allocation, arithmetic, formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from risiti.domain.errors import CurrencyMismatchError, InvalidFieldError, UnknownCurrencyError
from risiti.domain.money import Money, allocate, currency_exponent, minor_units, round_half_up


@pytest.mark.parametrize(
    ("currency", "exponent"), [("NGN", 2), ("USD", 2), ("XOF", 0), ("UGX", 0), ("KWD", 3)]
)
def test_currency_exponent_comes_from_iso_4217(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("code", ["ABC", "ngn", "NG", "NGNN", "", "N1N"])
def test_unknown_currency_is_refused_on_the_currency_field(code: str) -> None:
    with pytest.raises(UnknownCurrencyError) as raised:
        currency_exponent(code)
    assert raised.value.field == "currency"


@pytest.mark.parametrize(
    ("value", "rounded"),
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("-0.5", -1), ("-1.5", -2), ("2.4999", 2), ("7", 7)],
)
def test_round_half_up_rounds_halves_away_from_zero(value: str, rounded: int) -> None:
    assert round_half_up(Decimal(value)) == rounded


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (500, [5000, 2000], [357, 143]),
        (10, [0, 5, 5], [0, 5, 5]),
        (7, [0, 0, 0], [3, 2, 2]),
        (0, [3, 4], [0, 0]),
        (0, [], []),
        (5, [1, 2, 2], [1, 2, 2]),
        (1, [1, 1], [1, 0]),
    ],
)
def test_allocate_splits_by_largest_remainder(
    total: int, weights: list[int], parts: list[int]
) -> None:
    assert allocate(total, weights) == parts


def test_allocate_refuses_a_positive_total_over_no_weights() -> None:
    with pytest.raises(ValueError):
        allocate(1, [])


def test_allocate_refuses_negative_totals_and_weights() -> None:
    with pytest.raises(ValueError):
        allocate(-1, [1])
    with pytest.raises(ValueError):
        allocate(1, [1, -1])


def test_money_adds_subtracts_and_negates_within_one_currency() -> None:
    a, b = Money(250000, "NGN"), Money(1000, "NGN")
    assert a + b == Money(251000, "NGN")
    assert a - b == Money(249000, "NGN")
    assert -b == Money(-1000, "NGN")
    assert Money.zero("NGN") + b == b


def test_money_compares_within_one_currency() -> None:
    small, large = Money(1, "NGN"), Money(2, "NGN")
    assert small < large
    assert small <= small
    assert large > small
    assert large >= large
    assert small != large


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_money_of_different_currencies_cannot_be_combined(combine: object) -> None:
    assert callable(combine)
    with pytest.raises(CurrencyMismatchError):
        combine(Money(100, "NGN"), Money(100, "USD"))


def test_money_is_immutable() -> None:
    money = Money(1, "NGN")
    with pytest.raises(AttributeError):
        money.amount = 2  # type: ignore[misc]


def test_naira_format_shows_kobo_as_decimals() -> None:
    assert Money(250000, "NGN").format() == "₦2,500.00"


def test_currency_without_minor_unit_formats_without_decimals() -> None:
    rendered = Money(5000, "XOF").format()
    assert "5,000" in rendered
    assert "." not in rendered


def test_kuwaiti_dinar_formats_three_decimals() -> None:
    assert "1.234" in Money(1234, "KWD").format("en")


@pytest.mark.parametrize(
    ("major", "currency", "minor"),
    [("2500.50", "NGN", 250050), ("2500", "NGN", 250000), ("250000", "XOF", 250000)],
)
def test_an_amount_in_major_units_is_its_exact_minor_units(
    major: str, currency: str, minor: int
) -> None:
    assert minor_units(Decimal(major), currency) == minor


@pytest.mark.parametrize(("major", "currency"), [("10.505", "NGN"), ("0.5", "XOF"), ("NaN", "NGN")])
def test_more_decimals_than_the_currency_has_are_refused_not_rounded(
    major: str, currency: str
) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        minor_units(Decimal(major), currency, field="amount")
    assert refused.value.field == "amount"
