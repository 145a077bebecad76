"""Products over HTTP (docs/api.md, "Inventory"): the catalogue, adjustments once per reference,
negative stock only where the account allows it, and invoice lines linked by sku or id."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import Api
from .http_calls import Answer, call, event_count

pytestmark = pytest.mark.asyncio

RICE = {"sku": "RICE-50", "name": "Rice, 50 kg", "unit_price": 7_500_000, "stock": 10}


async def _product(api: Api, **fields: Any) -> dict[str, Any]:
    answer = await call(api, "POST", "/v1/products", {**RICE, **fields})
    assert answer.status == 201, answer.body
    product: dict[str, Any] = answer.data
    return product


async def _adjust(api: Api, product_id: str, body: dict[str, Any], **headers: str) -> Answer:
    return await call(api, "POST", f"/v1/products/{product_id}/adjustments", body, **headers)


async def test_product_is_created_read_listed_and_updated(api: Api) -> None:
    created = await _product(api, low_stock_threshold=3, metadata={"aisle": 4})

    assert {k: created[k] for k in ("sku", "currency", "stock", "low_stock_threshold")} == {
        "sku": "RICE-50",
        "currency": "NGN",
        "stock": 10,
        "low_stock_threshold": 3,
    }
    read = await call(api, "GET", f"/v1/products/{created['id']}")
    assert (read.status, read.data, read.headers["ETag"]) == (200, created, '"1"')
    updated = await call(
        api, "PATCH", f"/v1/products/{created['id']}", {"unit_price": 8_000_000}, If_Match='"1"'
    )
    assert (updated.status, updated.data["unit_price"], updated.data["version"]) == (
        200,
        8_000_000,
        2,
    )
    listed = await call(api, "GET", "/v1/products")
    assert [p["unit_price"] for p in listed.data] == [8_000_000]


async def test_a_stale_if_match_on_a_product_is_a_version_conflict(api: Api) -> None:
    product = await _product(api)
    await call(api, "PATCH", f"/v1/products/{product['id']}", {"name": "Rice"})

    answer = await call(
        api, "PATCH", f"/v1/products/{product['id']}", {"name": "Rice!"}, If_Match='"1"'
    )

    assert (answer.status, answer.error["code"]) == (412, "version_conflict")


async def test_a_duplicate_sku_is_refused_with_409_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    await _product(api)
    other = await _product(api, sku="BEANS")
    before = await event_count(pool, account.account_id)

    created = await call(api, "POST", "/v1/products", RICE)
    renamed = await call(api, "PATCH", f"/v1/products/{other['id']}", {"sku": "RICE-50"})

    for answer in (created, renamed):
        assert (answer.status, answer.error["code"]) == (409, "duplicate_sku"), answer.body
    assert await event_count(pool, account.account_id) == before


async def test_the_live_mode_and_other_accounts_never_see_a_product(
    api: Api, account: OpenedAccount
) -> None:
    product = await _product(api)
    live = Api(api.http, account.live_key)

    assert (await call(live, "GET", f"/v1/products/{product['id']}")).status == 404
    assert (await call(live, "GET", "/v1/products")).data == []
    # The same sku is free in the other mode.
    assert (await call(live, "POST", "/v1/products", RICE)).status == 201


async def test_an_adjustment_sent_twice_with_one_reference_applies_once(api: Api) -> None:
    product = await _product(api)
    sale = {"delta": -4, "reason": "sold in shop", "reference": "POS-1042"}

    first = await _adjust(api, product["id"], sale)
    again = await _adjust(api, product["id"], sale)
    restock = await _adjust(api, product["id"], {"delta": 5, "reason": "restock"})

    assert (first.status, first.data["stock_after"], first.data["product"]["stock"]) == (201, 6, 6)
    assert (again.status, again.data["stock_after"], again.data["created_at"]) == (
        200,
        6,
        first.data["created_at"],
    )
    assert restock.data["stock_after"] == 11
    assert (await call(api, "GET", f"/v1/products/{product['id']}")).data["stock"] == 11


async def test_concurrent_adjustments_with_one_reference_apply_once(api: Api) -> None:
    product = await _product(api)
    sale = {"delta": -2, "reason": "till", "reference": "POS-9"}

    answers = await asyncio.gather(*(_adjust(api, product["id"], sale) for _ in range(6)))

    assert sorted(answer.status for answer in answers) == [200] * 5 + [201]
    assert {answer.data["stock_after"] for answer in answers} == {8}
    assert (await call(api, "GET", f"/v1/products/{product['id']}")).data["stock"] == 8


async def test_a_reference_reused_for_another_delta_is_refused(api: Api) -> None:
    product = await _product(api)
    await _adjust(api, product["id"], {"delta": -1, "reference": "POS-7"})

    answer = await _adjust(api, product["id"], {"delta": -2, "reference": "POS-7"})

    assert (answer.status, answer.error["code"]) == (422, "validation_error")
    assert answer.error["details"][0]["field"] == "reference"


async def test_an_adjustment_honours_the_idempotency_key(api: Api) -> None:
    product = await _product(api)

    first = await _adjust(api, product["id"], {"delta": -1}, Idempotency_Key="k-1")
    again = await _adjust(api, product["id"], {"delta": -1}, Idempotency_Key="k-1")

    assert (first.status, again.status, again.body) == (201, 201, first.body)
    assert (await call(api, "GET", f"/v1/products/{product['id']}")).data["stock"] == 9


async def test_stock_goes_below_zero_only_where_the_account_allows_it(api: Api) -> None:
    product = await _product(api, stock=2)

    refused = await _adjust(api, product["id"], {"delta": -3})
    await call(api, "PATCH", "/v1/account", {"allow_negative_stock": True})
    allowed = await _adjust(api, product["id"], {"delta": -3})

    assert (refused.status, refused.error["code"]) == (409, "insufficient_stock")
    assert refused.error["details"] == [{"field": "delta", "stock": 2}]
    assert (allowed.status, allowed.data["stock_after"]) == (201, -1)
    assert (await call(api, "GET", "/v1/account")).data["allow_negative_stock"] is True


async def test_an_invoice_line_named_by_sku_takes_the_products_name_and_price(api: Api) -> None:
    product = await _product(api)

    answer = await call(
        api,
        "POST",
        "/v1/invoices",
        {"customer_name": "Ada", "items": [{"sku": "RICE-50", "quantity": 2}]},
    )

    assert answer.status == 201, answer.body
    assert answer.data["items"][0] | {"amount": 0} == {
        "description": "Rice, 50 kg",
        "details": None,
        "quantity": 2,
        "unit_price": 7_500_000,
        "amount": 0,
        "discount_amount": 0,
        "tax_amount": 0,
        "product_id": product["id"],
    }
    assert answer.data["total"] == 15_000_000


async def test_a_line_keeps_its_own_name_and_price_over_the_products(api: Api) -> None:
    product = await _product(api)

    answer = await call(
        api,
        "POST",
        "/v1/invoices",
        {
            "customer_name": "Ada",
            "items": [{"product_id": product["id"], "name": "Rice (promo)", "unit_price": 100}],
        },
    )

    item = answer.data["items"][0]
    assert (item["description"], item["unit_price"], item["product_id"]) == (
        "Rice (promo)",
        100,
        product["id"],
    )


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"sku": "NO-SUCH"}, "items.0.sku"),
        ({"product_id": "00000000-0000-4000-8000-000000000000"}, "items.0.product_id"),
        ({"sku": "RICE-50", "quantity": 1.5}, "items.0.quantity"),
    ],
)
async def test_a_line_naming_an_unknown_product_or_a_fraction_of_stock_is_refused(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, item: dict[str, Any], field: str
) -> None:
    await _product(api)
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", "/v1/invoices", {"customer_name": "Ada", "items": [item]})

    assert (answer.status, answer.error["code"]) == (422, "validation_error"), answer.body
    assert answer.error["details"][0]["field"] == field
    assert await event_count(pool, account.account_id) == before


async def test_a_line_cannot_link_a_product_priced_in_another_currency(api: Api) -> None:
    await _product(api, currency="USD", unit_price=5000)

    created = await call(
        api, "POST", "/v1/invoices", {"customer_name": "Ada", "items": [{"sku": "RICE-50"}]}
    )
    draft = await call(
        api,
        "POST",
        "/v1/invoices",
        {
            "currency": "USD",
            "status": "draft",
            "customer_name": "Ada",
            "items": [{"sku": "RICE-50"}],
        },
    )
    switched = await call(api, "PATCH", f"/v1/invoices/{draft.data['id']}", {"currency": "NGN"})

    assert draft.status == 201
    assert (created.status, created.error["details"][0]["field"]) == (422, "items.0.sku")
    # The draft's line is linked by id now: changing the invoice's currency must fit it too.
    assert (switched.status, switched.error["details"][0]["field"]) == (422, "items.0.product_id")


async def test_a_line_without_a_price_or_a_product_is_refused(api: Api) -> None:
    answer = await call(
        api, "POST", "/v1/invoices", {"customer_name": "Ada", "items": [{"name": "Rice"}]}
    )

    assert (answer.status, answer.error["code"]) == (422, "validation_error")
