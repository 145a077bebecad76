"""Every bound of docs/api.md ("Bounds") at the HTTP edge: a request past one is refused with a
4xx naming what is wrong, and nothing is appended to the log that a reader could trip over."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import Api
from .http_calls import Answer, call, event_count

pytestmark = pytest.mark.asyncio

MAX_AMOUNT = 10**15
MAX_STOCK = 10**12
# Ten lines of 10 000 units at ₦10 trillion: 10^20 kobo, past what bigint and orjson hold.
OVERFLOWING_LINES = [
    {"description": f"Line {n}", "quantity": 10_000, "unit_price": MAX_AMOUNT} for n in range(10)
]
RICE = {"sku": "RICE-50", "name": "Rice, 50 kg", "unit_price": 7_500_000, "stock": 10}


async def _refused(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, method: str, path: str, body: Any
) -> Answer:
    """The answer to a request that must change nothing: a 4xx, and no event appended."""
    before = await event_count(pool, account.account_id)
    answer = await call(api, method, path, body)
    assert 400 <= answer.status < 500, answer.body
    assert await event_count(pool, account.account_id) == before
    return answer


def _names(answer: Answer, field: str) -> bool:
    return (answer.status, answer.error["code"], answer.error["details"][0]["field"]) == (
        422,
        "validation_error",
        field,
    )


@pytest.mark.parametrize("status", ["open", "draft"])
async def test_an_overflowing_invoice_is_refused_naming_the_line(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, status: str
) -> None:
    body = {"customer_name": "Ada", "status": status, "items": OVERFLOWING_LINES}

    answer = await _refused(api, pool, account, "POST", "/v1/invoices", body)

    assert _names(answer, "items.0.unit_price"), answer.body


@pytest.mark.parametrize("status", ["open", "draft"])
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"items": [{"description": "a", "unit_price": MAX_AMOUNT}] * 2}, "subtotal"),
        ({"shipping_fee": 1}, "total"),
        ({"tax_rate": 7.5}, "total"),
        ({"shipping_fee": MAX_AMOUNT + 1}, "shipping_fee"),
        ({"discount": {"type": "amount", "value": MAX_AMOUNT + 1}}, "discount.value"),
    ],
    ids=["subtotal", "shipping", "tax", "shipping-fee", "discount"],
)
async def test_an_invoice_whose_total_passes_the_bound_is_refused_naming_it(
    api: Api,
    pool: asyncpg.Pool,
    account: OpenedAccount,
    status: str,
    extra: dict[str, Any],
    field: str,
) -> None:
    body = {
        "customer_name": "Ada",
        "status": status,
        "items": [{"description": "Everything", "unit_price": MAX_AMOUNT}],
    } | extra

    answer = await _refused(api, pool, account, "POST", "/v1/invoices", body)

    assert _names(answer, field), answer.body


async def test_an_invoice_of_exactly_the_bound_is_issued_and_listed(api: Api) -> None:
    body = {
        "customer_name": "Ada",
        "items": [{"description": "Everything", "unit_price": MAX_AMOUNT - 1}],
        "shipping_fee": 1,
    }

    created = await call(api, "POST", "/v1/invoices", body)

    assert (created.status, created.data["total"]) == (201, MAX_AMOUNT), created.body


async def test_a_draft_patched_past_the_bound_is_refused_and_unchanged(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    draft = await call(
        api,
        "POST",
        "/v1/invoices",
        {
            "customer_name": "Ada",
            "status": "draft",
            "items": [{"description": "x", "unit_price": 1}],
        },
    )
    path = f"/v1/invoices/{draft.data['id']}"

    answer = await _refused(api, pool, account, "PATCH", path, {"items": OVERFLOWING_LINES})

    assert _names(answer, "items.0.unit_price"), answer.body
    assert (await call(api, "GET", path)).data["total"] == 1


async def test_a_payment_past_the_bound_is_refused_naming_the_amount(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await call(
        api,
        "POST",
        "/v1/invoices",
        {"customer_name": "Ada", "items": [{"description": "x", "unit_price": MAX_AMOUNT}]},
    )
    path = f"/v1/invoices/{invoice.data['id']}/payments"

    answer = await _refused(api, pool, account, "POST", path, {"amount": MAX_AMOUNT + 1})

    assert _names(answer, "amount"), answer.body


async def test_stock_of_billions_is_created_and_adjusted_into_bigint(api: Api) -> None:
    created = await call(api, "POST", "/v1/products", RICE | {"stock": 3_000_000_000})
    path = f"/v1/products/{created.data['id']}/adjustments"

    adjusted = await call(api, "POST", path, {"delta": 3e9, "reference": "IMPORT-1"})
    again = await call(api, "POST", path, {"delta": 3e9, "reference": "IMPORT-1"})

    assert (created.status, created.data["stock"]) == (201, 3_000_000_000), created.body
    assert (adjusted.status, adjusted.data["stock_after"]) == (201, 6_000_000_000), adjusted.body
    assert (again.status, again.data["delta"]) == (200, 3_000_000_000), again.body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (RICE | {"stock": MAX_STOCK + 1}, "stock"),
        (RICE | {"unit_price": MAX_AMOUNT + 1}, "unit_price"),
        (RICE | {"low_stock_threshold": MAX_STOCK + 1}, "low_stock_threshold"),
        (RICE | {"stock": 10**30}, "stock"),
    ],
    ids=["stock", "price", "threshold", "huge-stock"],
)
async def test_a_product_past_a_bound_is_refused_naming_the_field(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, body: dict[str, Any], field: str
) -> None:
    answer = await _refused(api, pool, account, "POST", "/v1/products", body)

    assert _names(answer, field), answer.body


async def test_a_product_patched_past_a_bound_is_refused(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    product = await call(api, "POST", "/v1/products", RICE)
    path = f"/v1/products/{product.data['id']}"

    answer = await _refused(api, pool, account, "PATCH", path, {"unit_price": MAX_AMOUNT + 1})

    assert _names(answer, "unit_price"), answer.body


@pytest.mark.parametrize(
    ("stock", "delta"),
    [(MAX_STOCK - 5, 6), (10, MAX_STOCK + 1), (10, 10**30)],
    ids=["stock-past-bound", "delta-past-bound", "huge-delta"],
)
async def test_an_adjustment_past_the_stock_bound_is_refused_naming_delta(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, stock: int, delta: int
) -> None:
    product = await call(api, "POST", "/v1/products", RICE | {"stock": stock})
    path = f"/v1/products/{product.data['id']}/adjustments"

    answer = await _refused(api, pool, account, "POST", path, {"delta": delta, "reference": "R"})

    assert _names(answer, "delta"), answer.body
