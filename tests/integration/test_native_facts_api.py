"""The native API records what the business says (DESIGN.md §5, §6): nothing it sends is
silently ignored, a document created `paid` is issued paid, and the account's name is the
business' to change; the customer, on the hosted page, is offered only what the invoice offers."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api
from .http_calls import call, event_count

pytestmark = pytest.mark.asyncio

UNKNOWN = "is not a field of this request"
TOTAL = 250000


# Nothing silently ignored ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("/v1/invoices", KREDO_INVOICE | {"colour": "red"}, ["colour"]),
        ("/v1/invoices", KREDO_INVOICE | {"dueDat": "2030-01-01"}, ["dueDat"]),
        (
            "/v1/invoices",
            KREDO_INVOICE | {"items": [{"description": "x", "price": 1, "sku_code": "A"}]},
            ["items.0.sku_code"],
        ),
        (
            "/v1/invoices",
            KREDO_INVOICE | {"customer": {"name": "Ada", "nick": "A"}, "foo": 1},
            ["customer.nick", "foo"],
        ),
        ("/v1/customers", {"name": "Ada", "business_id": "b1"}, ["business_id"]),
        ("/v1/account", {"theme": "dark"}, ["theme"]),
    ],
    ids=["top-level", "camel-case-typo", "in-an-item", "nested-and-top", "customer", "account"],
)
async def test_an_unknown_field_is_refused_naming_its_path_and_changes_nothing(
    api: Api,
    pool: asyncpg.Pool,
    account: OpenedAccount,
    path: str,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    before = await event_count(pool, account.account_id)

    answer = await call(api, "PATCH" if path == "/v1/account" else "POST", path, body)

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    assert answer.error["details"] == [{"field": f, "message": UNKNOWN} for f in fields]
    assert answer.error["message"] == f"{fields[0]}: {UNKNOWN}"
    assert await event_count(pool, account.account_id) == before


async def test_every_documented_spelling_is_still_accepted(api: Api) -> None:
    customer = await call(api, "POST", "/v1/customers", {"name": "Mwenda Deno"})
    body = {
        "recipientRef": customer.data["id"],
        "acceptPartialPayments": True,
        "items": [
            {"name": "Banana", "qty": "2", "rate": "100"},
            {"description": "Apple", "quantity": 1, "unitPrice": 50},
            {"description": "Pear", "quantity": 1, "price": 25},
        ],
    }

    answer = await call(api, "POST", "/v1/invoices", body)

    assert answer.status == 201, answer.body
    assert answer.data["customer"]["id"] == customer.data["id"]
    assert [item["amount"] for item in answer.data["items"]] == [200, 50, 25]
    assert answer.data["accept_partial_payments"] is True


async def test_two_spellings_of_one_field_are_refused_since_one_would_be_lost(api: Api) -> None:
    item = {"description": "x", "qty": 1, "quantity": 2, "price": 1}

    answer = await call(api, "POST", "/v1/invoices", KREDO_INVOICE | {"items": [item]})

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "items.0"
    assert "qty or quantity" in answer.error["details"][0]["message"]


@pytest.mark.parametrize(
    ("path", "query", "fields"),
    [
        ("/v1/invoices", "?limit=5&colour=red", ["colour"]),
        ("/v1/account", "?expand=keys", ["expand"]),
        ("/v1/balances", "?currency=NGN&x=1", ["currency", "x"]),
    ],
)
async def test_an_unknown_query_parameter_is_refused_naming_it(
    api: Api, path: str, query: str, fields: list[str]
) -> None:
    answer = await call(api, "GET", path + query)

    assert answer.status == 422, answer.body
    assert answer.error["details"] == [{"field": f, "message": UNKNOWN} for f in fields]


async def test_a_query_parameter_sent_twice_is_refused_naming_it(api: Api) -> None:
    answer = await call(api, "GET", "/v1/invoices?limit=5&limit=6")

    assert answer.status == 422, answer.body
    assert answer.error["details"] == [{"field": "limit", "message": "is sent more than once"}]


async def test_paystack_may_add_fields_to_its_webhook_body(api: Api) -> None:
    """Paystack's document, not ours: its fields we do not read are no refusal (the signature is
    checked after the body is read, so an unsigned body reaches the invoice lookup: 404)."""
    body = {
        "event": "charge.success",
        "new_paystack_field": True,
        "data": {
            "reference": "T1",
            "amount": 100,
            "currency": "NGN",
            "paidAt": "2024-03-01T09:15:00.000Z",
            "log": {"time_spent": 9},
            "metadata": {"invoice_id": "00000000-0000-0000-0000-000000000000", "cart": "x"},
        },
    }
    response = await api.http.post(
        "/v1/integrations/paystack/webhook", json=body, headers={"x-paystack-signature": "ab"}
    )

    assert response.status == 404, await response.text()


# status: paid on create -------------------------------------------------------------------


@pytest.mark.parametrize("document_type", ["invoice", "receipt"])
async def test_a_document_created_paid_is_issued_paid_in_one_go(
    api: Api, document_type: str
) -> None:
    body = KREDO_INVOICE | {"type": document_type, "status": "paid", "payment_method": "cash"}

    answer = await call(api, "POST", "/v1/invoices", body)

    assert answer.status == 201, answer.body
    document = answer.data
    prefix = "INV" if document_type == "invoice" else "RCT"
    assert re.fullmatch(rf"{prefix}-\d{{4}}-0001", document["document_number"])
    assert (document["status"], document["amount_paid"], document["amount_due"]) == (
        "paid",
        TOTAL,
        0,
    )
    [payment] = document["payments"]
    assert (payment["amount"], payment["method"]) == (TOTAL, "cash")
    history = await call(api, "GET", f"/v1/invoices/{document['id']}/history")
    assert [e["type"] for e in history.data["events"]] == [
        "Created",
        "Finalized",
        "PaymentRecorded",
    ]


async def test_an_invoice_created_paid_without_a_method_is_paid_by_other(api: Api) -> None:
    answer = await call(api, "POST", "/v1/invoices", KREDO_INVOICE | {"status": "paid"})

    assert answer.status == 201, answer.body
    assert answer.data["payments"][0]["method"] == "other"


async def test_a_payment_method_on_a_document_not_issued_paid_is_refused(api: Api) -> None:
    answer = await call(api, "POST", "/v1/invoices", KREDO_INVOICE | {"payment_method": "cash"})

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "payment_method"


# The account's name -----------------------------------------------------------------------


async def test_the_account_name_changes_and_customers_see_the_new_one(api: Api) -> None:
    invoice = await call(api, "POST", "/v1/invoices", KREDO_INVOICE)

    renamed = await call(api, "PATCH", "/v1/account", {"name": "Ada's Kitchen & Bakery"})

    assert renamed.status == 200, renamed.body
    assert renamed.data["name"] == "Ada's Kitchen & Bakery"
    assert (await call(api, "GET", "/v1/account")).data["name"] == "Ada's Kitchen & Bakery"
    page = await api.http.get(invoice.data["view_url"].removeprefix("http://risiti.test"))
    assert "Ada&#39;s Kitchen &amp; Bakery" in await page.text()


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, None])
async def test_an_account_name_outside_1_to_200_characters_is_refused(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, name: str | None
) -> None:
    before = await event_count(pool, account.account_id)

    answer = await call(api, "PATCH", "/v1/account", {"name": name})

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "name"
    assert await event_count(pool, account.account_id) == before


# What the hosted page offers the customer ------------------------------------------------


async def _pay_on_the_page(api: Api, invoice: dict[str, Any], amount: str) -> Any:
    path = invoice["view_url"].removeprefix("http://risiti.test") + "/pay"
    form = {"version": str(invoice["version"]), "amount": amount}
    return await api.http.post(path, data=form, allow_redirects=False)


async def test_the_page_takes_part_of_the_balance_only_where_the_invoice_offers_it(
    api: Api,
) -> None:
    whole = (await call(api, "POST", "/v1/invoices", KREDO_INVOICE)).data
    partial = (
        await call(api, "POST", "/v1/invoices", KREDO_INVOICE | {"accept_partial_payments": True})
    ).data
    whole_page = await api.http.get(whole["view_url"].removeprefix("http://risiti.test"))
    partial_page = await api.http.get(partial["view_url"].removeprefix("http://risiti.test"))
    assert 'name="amount"' not in await whole_page.text()
    assert 'name="amount"' in await partial_page.text()

    refused = await _pay_on_the_page(api, whole, "1000.00")
    paid = await _pay_on_the_page(api, partial, "1000.50")

    assert refused.status == 400
    assert "does not accept partial payments" in await refused.text()
    assert paid.status == 303
    read = (await call(api, "GET", f"/v1/invoices/{partial['id']}")).data
    assert (read["status"], read["amount_due"]) == ("partially_paid", TOTAL - 100050)
    assert (await call(api, "GET", f"/v1/invoices/{whole['id']}")).data["status"] == "open"


async def test_the_page_refuses_an_amount_finer_than_the_currency(api: Api) -> None:
    partial = (
        await call(api, "POST", "/v1/invoices", KREDO_INVOICE | {"accept_partial_payments": True})
    ).data

    answer = await _pay_on_the_page(api, partial, "10.005")

    assert answer.status == 400
    assert (await call(api, "GET", f"/v1/invoices/{partial['id']}")).data["status"] == "open"
