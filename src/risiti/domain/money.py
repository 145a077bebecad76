"""Amounts of money as integers in a currency's minor unit (DESIGN.md §5).

Floats never appear: a kobo lost to binary rounding is a kobo the ledger cannot explain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

from risiti.domain.errors import CurrencyMismatchError, InvalidFieldError, UnknownCurrencyError

_WHOLE_UNIT = Decimal(1)


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_exponent(currency: str) -> int:
    """Decimal places of an ISO 4217 currency's minor unit: NGN 2, XOF 0, KWD 3."""
    if not _is_currency_code(currency):
        raise UnknownCurrencyError(f"Unknown currency {currency!r}.", field="currency")
    return int(get_currency_precision(currency))


def _is_currency_code(currency: str) -> bool:
    # babel answers a default precision for any string, so membership is checked first.
    shaped = len(currency) == 3 and currency.isascii() and currency.isalpha()
    return shaped and currency.isupper() and currency in _known_currencies()


def minor_units(major: Decimal, currency: str, *, field: str | None = None) -> int:
    """An amount written in major units (Kredo's `"price": 2500.5` naira) as whole minor units,
    exactly: `2500.5` NGN is 250050 kobo. More decimals than the currency has (`0.001` naira,
    `1.5` CFA francs) name no amount of money and are refused, never rounded."""
    exponent = currency_exponent(currency)
    scaled = major.scaleb(exponent)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        places = f"{exponent} decimal places" if exponent else "no decimal places"
        raise InvalidFieldError(f"{currency} amounts have {places}; {major} has more.", field)
    return int(scaled)


def major_units(minor: int, currency: str) -> Decimal:
    """Whole minor units as the currency's major units, exactly: 250050 kobo is 2500.50 naira.
    The inverse of `minor_units`; the result has the currency's exponent as its places."""
    return Decimal(minor).scaleb(-currency_exponent(currency))


def round_half_up(value: Decimal) -> int:
    """Round to a whole number, halves away from zero (2.5 → 3, -0.5 → -1)."""
    return int(value.quantize(_WHOLE_UNIT, rounding=ROUND_HALF_UP))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` so that the parts sum exactly to `total`.

    Largest-remainder method; ties go to the earlier index. All-zero weights split evenly.
    """
    _check_allocation(total, weights)
    if not weights:
        return []
    if sum(weights) == 0:
        return allocate(total, [1] * len(weights))
    return _largest_remainder(total, weights)


def _check_allocation(total: int, weights: Sequence[int]) -> None:
    if total < 0:
        raise ValueError("Cannot allocate a negative total.")
    if any(weight < 0 for weight in weights):
        raise ValueError("Cannot allocate over negative weights.")
    if total > 0 and not weights:
        raise ValueError("Cannot allocate a positive total over no weights.")


def _largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    whole = sum(weights)
    parts = [total * weight // whole for weight in weights]
    remainders = [total * weight % whole for weight in weights]
    leftover = total - sum(parts)
    # Stable sort keeps earlier indexes first among equal remainders.
    by_remainder = sorted(range(len(weights)), key=lambda index: -remainders[index])
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts


@dataclass(frozen=True)
class Money:
    """An amount in minor units (kobo for NGN) of one currency."""

    amount: int
    currency: str

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def __add__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check_same_currency(other)
        return self.amount >= other.amount

    def format(self, locale: str = "en_NG") -> str:
        """Render for people, e.g. Money(250000, "NGN") → "₦2,500.00"."""
        major_units = Decimal(self.amount).scaleb(-currency_exponent(self.currency))
        return str(format_currency(major_units, self.currency, locale=locale))

    def _check_same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(
                f"Cannot combine {self.currency} with {other.currency}.",
            )
