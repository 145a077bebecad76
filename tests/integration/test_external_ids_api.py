"""Customers and tax rates keep the id a business' previous system gave them (`external_id`), and
requests name them by it or by their Risiti id, over HTTP (docs/api.md, "External ids")."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.ledger import Ledger

from .conftest import Api
from .http_calls import call, event_count

pytestmark = pytest.mark.asyncio


async def _customer(api: Api, **fields: Any) -> dict[str, Any]:
    answer = await call(api, "POST", "/v1/customers", {"name": "Mwenda Deno"} | fields)
    assert answer.status == 201, answer.body
    return dict(answer.data)


async def _tax_rate(api: Api, **fields: Any) -> dict[str, Any]:
    answer = await call(api, "POST", "/v1/tax-rates", {"name": "VAT", "percentage": "7.5"} | fields)
    assert answer.status == 201, answer.body
    return dict(answer.data)


async def test_customer_and_tax_rate_show_their_external_id(api: Api) -> None:
    customer = await _customer(api, external_id=" cus_GnXkWlEOtw ")
    tax_rate = await _tax_rate(api, external_id="txr_1")
    plain = await _customer(api)

    assert customer["external_id"] == "cus_GnXkWlEOtw"
    assert tax_rate["external_id"] == "txr_1"
    assert plain["external_id"] is None
    listed = await call(api, "GET", "/v1/customers")
    assert [c["external_id"] for c in listed.data] == [None, "cus_GnXkWlEOtw"]


async def test_invoice_names_its_customer_by_external_id(api: Api) -> None:
    customer = await _customer(api, external_id="cus_GnXkWlEOtw")
    body = {
        "recipient": "cus_GnXkWlEOtw",  # as Duplo's documented request names its customer
        "items": [{"name": "Banana", "quantity": "50", "unit_price": "100"}],
    }

    answer = await call(api, "POST", "/v1/invoices", body)

    assert answer.status == 201, answer.body
    assert answer.data["customer"]["id"] == customer["id"]
    assert answer.data["customer"]["name"] == "Mwenda Deno"


@pytest.mark.parametrize("field", ["customer_id", "recipient_ref", "recipient"])
async def test_each_customer_reference_field_takes_an_id_or_an_external_id(
    api: Api, field: str
) -> None:
    customer = await _customer(api, external_id="606213207287745")
    items = [{"description": "Web Development Fee", "quantity": 1, "unit_price": 150000}]

    for reference in ("606213207287745", customer["id"]):
        answer = await call(api, "POST", "/v1/invoices", {field: reference, "items": items})
        assert answer.status == 201, answer.body
        assert answer.data["customer"]["id"] == customer["id"]


async def test_invoice_names_its_tax_rates_by_external_id_or_id(api: Api) -> None:
    by_external_id = await _tax_rate(api, external_id="txr_1")
    by_id = await _tax_rate(api, percentage="5")
    body = {
        "customer_name": "Client Ltd",
        "items": [{"name": "Retainer", "quantity": 1, "price": 100000}],
        "taxRateIds": ["txr_1", by_id["id"]],
    }

    answer = await call(api, "POST", "/v1/invoices", body)

    assert answer.status == 201, answer.body
    taxes = [tax["tax_rate_id"] for tax in answer.data["taxes"]]
    assert taxes == [by_external_id["id"], by_id["id"]]
    assert answer.data["tax_total"] == 7500 + 5000


async def test_patch_names_the_customer_and_tax_rates_by_external_id(api: Api) -> None:
    customer = await _customer(api, external_id="cus_2")
    tax_rate = await _tax_rate(api, external_id="txr_2")
    created = await call(
        api,
        "POST",
        "/v1/invoices",
        {"customer_name": "Ada", "status": "draft", "items": [{"name": "Rice", "price": 1000}]},
    )

    answer = await call(
        api,
        "PATCH",
        f"/v1/invoices/{created.data['id']}",
        {"customer_id": "cus_2", "tax_rate_ids": ["txr_2"]},
    )

    assert answer.status == 200, answer.body
    assert answer.data["customer"]["id"] == customer["id"]
    assert [tax["tax_rate_id"] for tax in answer.data["taxes"]] == [tax_rate["id"]]


@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        ({"customer_id": "cus_unknown"}, "customer_id", "customer"),
        ({"recipient": "cus_unknown"}, "recipient", "customer"),
        ({"recipientRef": str(uuid4())}, "recipientRef", "customer"),
        (
            {"customer_name": "Ada", "tax_rate_ids": ["txr_1", "txr_9"]},
            "tax_rate_ids.1",
            "tax rate",
        ),
        ({"customer_name": "Ada", "taxRateIds": ["txr_9"]}, "tax_rate_ids.0", "tax rate"),
    ],
)
async def test_unknown_external_id_is_refused_naming_the_field_and_changes_nothing(
    api: Api,
    pool: asyncpg.Pool,
    account: OpenedAccount,
    body: dict[str, Any],
    field: str,
    kind: str,
) -> None:
    await _tax_rate(api, external_id="txr_1")
    before = await event_count(pool, account.account_id)
    items = [{"name": "Rice", "price": 1000}]

    answer = await call(api, "POST", "/v1/invoices", body | {"items": items})

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    detail = answer.error["details"][0]
    assert detail["field"] == field
    assert f"No {kind} has the id or external_id" in detail["message"]
    assert await event_count(pool, account.account_id) == before


async def test_external_id_is_unique_per_account_and_mode(
    api: Api, http: TestClient[Any, Any], ledger: Ledger, account: OpenedAccount
) -> None:
    first = await _customer(api, external_id="cus_GnXkWlEOtw")
    first_rate = await _tax_rate(api, external_id="txr_1")

    again = await call(
        api, "POST", "/v1/customers", {"name": "Other", "external_id": "cus_GnXkWlEOtw"}
    )
    rate_again = await call(
        api, "POST", "/v1/tax-rates", {"name": "VAT", "percentage": 5, "external_id": "txr_1"}
    )

    assert again.status == 409, again.body
    assert again.error["code"] == "duplicate_external_id"
    assert first["id"] in again.error["message"]
    assert again.error["details"] == [
        {"field": "external_id", "external_id": "cus_GnXkWlEOtw", "id": first["id"]}
    ]
    assert rate_again.status == 409, rate_again.body
    assert rate_again.error["details"][0]["id"] == first_rate["id"]
    # Free in live mode, in another account, and for the other kind.
    another_account = await open_account(ledger, "Another Business")
    for other in (Api(http, account.live_key), Api(http, another_account.test_key)):
        assert (await _customer(other, external_id="cus_GnXkWlEOtw"))["id"] != first["id"]
    await _tax_rate(api, external_id="cus_GnXkWlEOtw")


async def test_a_refused_duplicate_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    await _customer(api, external_id="cus_1")
    before = await event_count(pool, account.account_id)

    again = await call(api, "POST", "/v1/customers", {"name": "Other", "external_id": "cus_1"})

    assert again.status == 409, again.body
    assert await event_count(pool, account.account_id) == before
    assert len((await call(api, "GET", "/v1/customers")).data) == 1


@pytest.mark.parametrize("external_id", ["", "x" * 101, 17])
async def test_external_id_that_is_not_1_to_100_characters_of_text_is_refused(
    api: Api, external_id: object
) -> None:
    answer = await call(api, "POST", "/v1/customers", {"name": "Ada", "external_id": external_id})

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "external_id"


async def test_customer_and_tax_rate_are_read_by_id_or_external_id(api: Api) -> None:
    customer = await _customer(api, external_id="cus_GnXkWlEOtw")
    tax_rate = await _tax_rate(api, external_id="txr_1")

    for reference in ("cus_GnXkWlEOtw", customer["id"]):
        got = await call(api, "GET", f"/v1/customers/{reference}")
        assert (got.status, got.data["id"]) == (200, customer["id"])
        balance = await call(api, "GET", f"/v1/customers/{reference}/balance")
        assert (balance.status, balance.data["customer_id"]) == (200, customer["id"])
    for reference in ("txr_1", tax_rate["id"]):
        got = await call(api, "GET", f"/v1/tax-rates/{reference}")
        assert (got.status, got.data["id"]) == (200, tax_rate["id"])
    missing = await call(api, "GET", "/v1/customers/cus_unknown")
    assert (missing.status, missing.error["code"]) == (404, "not_found")
    assert "cus_unknown" in missing.error["message"]
    for never_an_external_id in ("cus%00x", "x" * 101):
        answer = await call(api, "GET", f"/v1/tax-rates/{never_an_external_id}")
        assert (answer.status, answer.error["code"]) == (404, "not_found")


async def test_lists_filter_by_external_id(api: Api) -> None:
    wanted = await _customer(api, external_id="cus_1")
    await _customer(api, external_id="cus_2")
    await _customer(api)
    rate = await _tax_rate(api, external_id="txr_1")
    await _tax_rate(api)

    customers = await call(api, "GET", "/v1/customers?external_id=cus_1")
    rates = await call(api, "GET", "/v1/tax-rates?external_id=txr_1")
    none = await call(api, "GET", "/v1/customers?external_id=cus_9")

    assert customers.status == 200, customers.body
    assert [c["id"] for c in customers.data] == [wanted["id"]]
    assert customers.body["has_more"] is False
    assert [r["id"] for r in rates.data] == [rate["id"]]
    assert (none.status, none.data, none.body["has_more"]) == (200, [], False)


async def test_external_id_is_in_the_openapi_document(api: Api) -> None:
    document = (await call(api, "GET", "/v1/openapi.json")).body
    schemas = document["components"]["schemas"]

    for name in ("Customer", "TaxRate", "CreateCustomerRequest", "CreateTaxRateRequest"):
        assert "external_id" in schemas[name]["properties"], name
    listed = document["paths"]["/v1/customers"]["get"]["parameters"]
    assert "external_id" in {parameter["name"] for parameter in listed}
    assert (
        "external_id" in schemas["CreateInvoiceRequest"]["properties"]["customer_id"]["description"]
    )


async def test_concurrent_customers_with_one_external_id_make_one_customer(api: Api) -> None:
    body = {"name": "Mwenda Deno", "external_id": "cus_race"}

    answers = await asyncio.gather(*(call(api, "POST", "/v1/customers", body) for _ in range(4)))

    assert sorted(answer.status for answer in answers) == [201, 409, 409, 409]
    created = next(answer.data for answer in answers if answer.status == 201)
    assert {a.error["details"][0]["id"] for a in answers if a.status == 409} == {created["id"]}
    assert len((await call(api, "GET", "/v1/customers")).data) == 1
