"""Minor units ↔ major units, exactly, by each currency's exponent (DESIGN.md §5, §11): the one
conversion the dialects and the Kredo-format webhooks use, both ways."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import list_currencies
from hypothesis import given, settings
from hypothesis import strategies as st

from risiti.domain.bounds import MAX_AMOUNT
from risiti.domain.errors import InvalidFieldError
from risiti.domain.money import currency_exponent, major_units, minor_units

# Every currency babel knows, so every exponent it has (0, 2, 3 and 4) is drawn.
CURRENCIES = sorted(list_currencies())
FAST = settings(max_examples=300, deadline=None)
amounts = st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)


def test_the_drawn_currencies_cover_every_exponent() -> None:
    assert {currency_exponent(code) for code in CURRENCIES} >= {0, 2, 3, 4}


@FAST
@given(amount=amounts, currency=st.sampled_from(CURRENCIES))
def test_minor_units_survive_the_round_trip_through_major_units(amount: int, currency: str) -> None:
    assert minor_units(major_units(amount, currency), currency) == amount


@FAST
@given(amount=amounts, currency=st.sampled_from(CURRENCIES))
def test_major_units_carry_exactly_the_currency_decimal_places(amount: int, currency: str) -> None:
    major = major_units(amount, currency)
    assert major.as_tuple().exponent == -currency_exponent(currency)
    assert major * 10 ** currency_exponent(currency) == amount


@FAST
@given(
    amount=st.integers(min_value=0, max_value=MAX_AMOUNT // 10),
    extra=st.integers(min_value=1, max_value=9),
    currency=st.sampled_from(CURRENCIES),
)
def test_one_decimal_place_more_than_the_currency_has_is_refused(
    amount: int, extra: int, currency: str
) -> None:
    too_precise = major_units(amount, currency) + Decimal(extra).scaleb(
        -currency_exponent(currency) - 1
    )
    with pytest.raises(InvalidFieldError) as refused:
        minor_units(too_precise, currency, field="items[0].price")
    assert refused.value.field == "items[0].price"
    assert "has more" in str(refused.value)


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        (25000000, "NGN", "250000.00"),
        (25000050, "NGN", "250000.50"),
        (500, "XOF", "500"),
        (1234, "KWD", "1.234"),
        (0, "NGN", "0.00"),
    ],
)
def test_minor_units_read_as_major_units(minor: int, currency: str, major: str) -> None:
    assert str(major_units(minor, currency)) == major


@pytest.mark.parametrize(
    ("major", "currency", "minor"),
    [
        ("250000", "NGN", 25000000),
        ("72.5", "NGN", 7250),
        ("1E+3", "XOF", 1000),
        ("0.1", "KWD", 100),
    ],
)
def test_major_units_become_whole_minor_units(major: str, currency: str, minor: int) -> None:
    assert minor_units(Decimal(major), currency) == minor


@pytest.mark.parametrize(("major", "currency"), [("2500.505", "NGN"), ("10.5", "XOF")])
def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded(
    major: str, currency: str
) -> None:
    with pytest.raises(InvalidFieldError, match=f"{currency} amounts have"):
        minor_units(Decimal(major), currency)
