"""Invoice totals from lines, discount, taxes and shipping (DESIGN.md §5).

Every figure is an integer in minor units, rounded once per line and per tax, so each total is
the plain sum of figures a client can see and recompute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from typing import Literal

from risiti.domain.bounds import MAX_AMOUNT, MAX_QUANTITY, QUANTITY_PLACES
from risiti.domain.errors import DiscountExceedsSubtotalError, InvalidInvoiceError
from risiti.domain.money import allocate, round_half_up

ROUNDING_PER_LINE_HALF_UP = "per_line_half_up"
ROUNDING_RULES: tuple[str, ...] = (ROUNDING_PER_LINE_HALF_UP,)

_MAX_DECIMAL_PLACES = 4
_HUNDRED = Decimal(100)
# Wide enough that no product or quotient here is rounded before round_half_up sees it.
_EXACT_ENOUGH = Context(prec=60)


@dataclass(frozen=True)
class Tax:
    """A tax rate in percent; inclusive taxes are contained in the price, others are added."""

    percentage: Decimal
    inclusive: bool = False
    name: str = ""


@dataclass(frozen=True)
class Discount:
    """A percentage off each line, or an amount in minor units spread over the lines."""

    kind: Literal["percentage", "amount"]
    value: Decimal | int


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: int
    taxes: tuple[Tax, ...] = ()


@dataclass(frozen=True)
class PricedLine:
    amount: int
    discount_amount: int
    exclusive_tax: int
    inclusive_tax: int

    @property
    def tax_amount(self) -> int:
        return self.exclusive_tax + self.inclusive_tax

    @property
    def net(self) -> int:
        return self.amount - self.discount_amount


@dataclass(frozen=True)
class InvoiceTotals:
    lines: tuple[PricedLine, ...]
    subtotal: int
    discount_total: int
    tax_total: int
    tax_inclusive_total: int
    shipping_fee: int
    shipping_tax: int
    total: int


def price_invoice(
    lines: Sequence[LineInput],
    *,
    discount: Discount | None = None,
    shipping_fee: int = 0,
    shipping_taxes: tuple[Tax, ...] = (),
    rounding: str = ROUNDING_PER_LINE_HALF_UP,
    check: bool = True,
) -> InvoiceTotals:
    """Price an invoice under `rounding`, the rule recorded in its creation event.

    `check=False` skips checking the figures, for an invoice whose figures were checked when
    they were recorded: followers price every invoice of the log again, and the checks cost as
    much as the pricing."""
    if rounding not in ROUNDING_RULES:
        raise ValueError(f"Unknown rounding rule {rounding!r}.")
    if check:
        _check_lines(lines)
        _check_discount(discount)
        _check_shipping(shipping_fee, shipping_taxes)
    with localcontext(_EXACT_ENOUGH):
        amounts = [line_amount(line) for line in lines]
        discounts = _discount_parts(discount, amounts)
        priced = tuple(
            _price_line(line, amount, part)
            for line, amount, part in zip(lines, amounts, discounts, strict=True)
        )
        shipping_tax = _exclusive_tax(shipping_fee, shipping_taxes)
    totals = _totals(priced, shipping_fee, shipping_tax)
    if check:
        _check_within_bound(totals)
    return totals


def line_amount(line: LineInput) -> int:
    """Quantity times unit price, rounded half-up to the minor unit."""
    return round_half_up(line.quantity * line.unit_price)


def _discount_parts(discount: Discount | None, amounts: list[int]) -> list[int]:
    if discount is None:
        return [0] * len(amounts)
    if discount.kind == "percentage":
        rate = Decimal(discount.value)
        return [round_half_up(amount * rate / _HUNDRED) for amount in amounts]
    return _spread_amount_discount(int(discount.value), amounts)


def _spread_amount_discount(value: int, amounts: list[int]) -> list[int]:
    subtotal = sum(amounts)
    if value > subtotal:
        raise DiscountExceedsSubtotalError(
            f"A discount of {value} exceeds the subtotal of {subtotal}.", field="discount"
        )
    # Weighting by line amount keeps each part within its line, so no net goes negative.
    return allocate(value, amounts)


def _price_line(line: LineInput, amount: int, discount_amount: int) -> PricedLine:
    net = amount - discount_amount
    inclusive = _inclusive_tax(net, line.taxes)
    exclusive = _exclusive_tax(net - inclusive, line.taxes)
    return PricedLine(amount, discount_amount, exclusive, inclusive)


def _inclusive_tax(net: int, taxes: tuple[Tax, ...]) -> int:
    # One figure for all inclusive taxes: splitting it would round the same price twice.
    rate = sum((tax.percentage for tax in taxes if tax.inclusive), Decimal(0))
    return round_half_up(net * rate / (_HUNDRED + rate))


def _exclusive_tax(base: int, taxes: tuple[Tax, ...]) -> int:
    added = (tax for tax in taxes if not tax.inclusive)
    return sum(round_half_up(base * tax.percentage / _HUNDRED) for tax in added)


def _totals(lines: tuple[PricedLine, ...], shipping_fee: int, shipping_tax: int) -> InvoiceTotals:
    subtotal = sum(line.amount for line in lines)
    discount_total = sum(line.discount_amount for line in lines)
    tax_total = sum(line.exclusive_tax for line in lines) + shipping_tax
    return InvoiceTotals(
        lines=lines,
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=tax_total,
        tax_inclusive_total=sum(line.inclusive_tax for line in lines),
        shipping_fee=shipping_fee,
        shipping_tax=shipping_tax,
        total=subtotal - discount_total + tax_total + shipping_fee,
    )


def _check_within_bound(totals: InvoiceTotals) -> None:
    """Refuse figures past `MAX_AMOUNT`. Each line's amount bounds its discount and taxes (no
    rate is above 100 %), and the total bounds the tax total, so these are all that can exceed."""
    for index, line in enumerate(totals.lines):
        if line.amount > MAX_AMOUNT:
            raise InvalidInvoiceError(
                f"quantity times unit_price of this line is {line.amount} minor units; "
                f"a line amounts to at most {MAX_AMOUNT}.",
                field=f"items.{index}.unit_price",
            )
    for name in ("subtotal", "total"):
        figure = getattr(totals, name)
        if figure > MAX_AMOUNT:
            raise InvalidInvoiceError(
                f"The invoice's {name} would be {figure} minor units; at most {MAX_AMOUNT}.",
                field=name,
            )


def _check_lines(lines: Sequence[LineInput]) -> None:
    for index, line in enumerate(lines):
        field = f"items.{index}"
        _check_quantity(line.quantity, f"{field}.quantity")
        _check_minor_units(line.unit_price, f"{field}.unit_price")
        _check_taxes(line.taxes, f"{field}.taxes")


def _check_quantity(quantity: Decimal, field: str) -> None:
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        raise InvalidInvoiceError("A quantity must be a positive decimal.", field=field)
    if quantity > MAX_QUANTITY:
        raise InvalidInvoiceError(f"A quantity is at most {MAX_QUANTITY}.", field=field)
    if _decimal_places(quantity) > QUANTITY_PLACES:
        raise InvalidInvoiceError(
            f"A quantity has at most {QUANTITY_PLACES} decimal places.", field=field
        )


def _check_minor_units(amount: object, field: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT:
        raise InvalidInvoiceError(
            f"An amount must be an integer of minor units from 0 to {MAX_AMOUNT}.", field=field
        )


def _check_taxes(taxes: tuple[Tax, ...], field: str) -> None:
    for index, tax in enumerate(taxes):
        _check_percentage(tax.percentage, f"{field}.{index}.percentage")
        if _decimal_places(tax.percentage) > _MAX_DECIMAL_PLACES:
            raise InvalidInvoiceError(
                f"A tax rate has at most {_MAX_DECIMAL_PLACES} decimal places.",
                field=f"{field}.{index}.percentage",
            )


def _check_percentage(value: object, field: str) -> None:
    if not _is_percentage(value):
        raise InvalidInvoiceError("A percentage must be between 0 and 100.", field=field)


def _is_percentage(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return False
    return Decimal(value).is_finite() and 0 <= value <= 100


def _check_discount(discount: Discount | None) -> None:
    if discount is None:
        return
    if discount.kind == "percentage":
        _check_percentage(discount.value, "discount")
    elif discount.kind == "amount":
        _check_minor_units(discount.value, "discount")
    else:
        raise InvalidInvoiceError(f"Unknown discount kind {discount.kind!r}.", field="discount")


def _check_shipping(shipping_fee: int, shipping_taxes: tuple[Tax, ...]) -> None:
    _check_minor_units(shipping_fee, "shipping_fee")
    _check_taxes(shipping_taxes, "shipping_taxes")
    if any(tax.inclusive for tax in shipping_taxes):
        raise InvalidInvoiceError(
            "Shipping taxes are added to the fee; inclusive ones are not supported.",
            field="shipping_taxes",
        )


def _decimal_places(value: Decimal) -> int:
    exponent = value.normalize(_EXACT_ENOUGH).as_tuple().exponent
    # Only finite values reach here; the guard keeps mypy and NaN's "n" exponent apart.
    return max(0, -exponent) if isinstance(exponent, int) else 0
