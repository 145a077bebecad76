"""The Product aggregate's rules, without any I/O."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from risiti.domain.bounds import MAX_AMOUNT, MAX_STOCK
from risiti.domain.errors import InsufficientStockError, InvalidFieldError, UnknownCurrencyError
from risiti.domain.product import Product

ACCOUNT = UUID("00000000-0000-4000-8000-000000000001")


def _product(**changes: Any) -> Product:
    fields: dict[str, Any] = {
        "account_id": ACCOUNT,
        "livemode": False,
        "sku": "RICE-50",
        "name": "Rice, 50 kg",
        "unit_price": 7_500_000,
        "currency": "ngn",
        "stock": 10,
        "low_stock_threshold": 3,
    }
    return Product.create(**(fields | changes))


def _replay(product: Product) -> Any:
    replayed: Any = None
    for domain_event in product.collect_events():
        replayed = domain_event.mutate(replayed)
    return replayed


def test_product_is_created_with_its_stock_and_an_upper_case_currency() -> None:
    product = _product()

    assert (product.sku, product.currency, product.stock, product.track_stock) == (
        "RICE-50",
        "NGN",
        10,
        True,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sku": " "}, "sku"),
        ({"name": ""}, "name"),
        ({"unit_price": -1}, "unit_price"),
        ({"stock": -1}, "stock"),
        ({"low_stock_threshold": -1}, "low_stock_threshold"),
        ({"unit_price": MAX_AMOUNT + 1}, "unit_price"),
        ({"stock": MAX_STOCK + 1}, "stock"),
        ({"low_stock_threshold": MAX_STOCK + 1}, "low_stock_threshold"),
        ({"stock": True}, "stock"),
    ],
)
def test_product_with_a_broken_field_is_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        _product(**changes)

    assert refused.value.field == field


def test_product_in_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrencyError):
        _product(currency="XYZ")


def test_adjustment_below_zero_is_refused_unless_negative_stock_is_allowed() -> None:
    product = _product(stock=2)

    with pytest.raises(InsufficientStockError):
        product.adjust(-3, reason="sold", reference=None, allow_negative=False)
    product.adjust(-3, reason="sold", reference=None, allow_negative=True)

    assert product.stock == -1


def test_stock_of_billions_is_kept_to_the_unit() -> None:
    product = _product(stock=3_000_000_000)

    product.adjust(3_000_000_000, reason="restock", reference=None, allow_negative=False)

    assert _replay(product).stock == 6_000_000_000


@pytest.mark.parametrize(("stock", "delta"), [(MAX_STOCK - 5, 6), (0, -MAX_STOCK - 1)])
def test_adjustment_taking_stock_past_the_bound_is_refused_naming_delta(
    stock: int, delta: int
) -> None:
    product = _product(stock=stock)

    with pytest.raises(InvalidFieldError) as refused:
        product.adjust(delta, reason="typo", reference=None, allow_negative=True)

    assert (refused.value.field, product.stock, len(product.pending_events)) == ("delta", stock, 1)


def test_adjustment_of_zero_is_refused() -> None:
    with pytest.raises(InvalidFieldError):
        _product().adjust(0, reason="nothing", reference=None, allow_negative=False)


def test_sale_takes_what_is_left_and_stops_at_zero_without_negative_stock() -> None:
    product = _product(stock=2)

    taken = product.deduct_sold(5, reference="INV-2026-0001", allow_negative=False)

    assert (taken, product.stock) == (2, 0)


def test_sale_goes_below_zero_where_negative_stock_is_allowed() -> None:
    product = _product(stock=2)

    taken = product.deduct_sold(5, reference="INV-2026-0001", allow_negative=True)

    assert (taken, product.stock) == (5, -3)


def test_sale_from_an_empty_shelf_takes_nothing_and_appends_nothing() -> None:
    product = _product(stock=0)
    product.collect_events()

    assert product.deduct_sold(1, reference="INV-1", allow_negative=False) == 0
    assert product.collect_events() == []


def test_restoring_gives_back_units_and_replays_to_the_same_stock() -> None:
    product = _product(stock=10)
    product.deduct_sold(3, reference="INV-1", allow_negative=False)
    product.restore_sold(3, reference="INV-1")

    assert product.stock == 10
    assert _replay(product).stock == 10


@pytest.mark.parametrize(
    ("stock", "delta", "crossed"),
    [
        (10, -5, []),
        (10, -7, ["stock_low"]),
        (4, -1, ["stock_low"]),
        (3, -1, []),  # already low: not crossed again
        (10, -10, ["stock_low", "out_of_stock"]),
        (1, -1, ["out_of_stock"]),
        (0, -1, []),  # already out
        (2, 5, []),  # rising never fires
    ],
)
def test_crossings_fire_only_when_a_threshold_is_passed_downward(
    stock: int, delta: int, crossed: list[str]
) -> None:
    product = _product(stock=stock, low_stock_threshold=3)

    product.adjust(delta, reason="count", reference=None, allow_negative=True)

    assert product.crossings(delta) == crossed


def test_untracked_product_never_fires_crossings() -> None:
    product = _product(stock=1, track_stock=False)
    product.adjust(-1, reason="count", reference=None, allow_negative=False)

    assert product.crossings(-1) == []


def test_update_changes_catalogue_fields_but_never_stock() -> None:
    product = _product()
    product.update({"unit_price": 8_000_000, "currency": "usd"})

    assert (product.unit_price, product.currency) == (8_000_000, "USD")
    with pytest.raises(InvalidFieldError) as refused:
        product.update({"stock": 99})
    assert refused.value.field == "stock"
    assert _replay(product).unit_price == 8_000_000
