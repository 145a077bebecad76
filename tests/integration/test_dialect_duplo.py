"""Duplo's API at /compat/duplo/v1 (DESIGN.md §11; ../shared/seeds/duplo-create-invoice.txt):
its documented request, sent byte for byte, gives Duplo's documented figures in naira, in
Duplo's `data`/`errors`/`message` envelope, onto the same invoice the native API reads."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
import schemathesis

from risiti.api.dialects import dialect_document
from risiti.commands.accounts import OpenedAccount

from .conftest import Api
from .http_calls import Answer, call, event_count, seed_example, send_bytes

pytestmark = pytest.mark.asyncio

DUPLO = "/compat/duplo/v1"
CREATE = f"{DUPLO}/merchants/invoice"
CREATE_BODY = seed_example("duplo-create-invoice.json")
RECIPIENT = "cus_GnXkWlEOtw"
"""The customer Duplo's sample request names, by the id Duplo gave it."""
DOCUMENTED_FIELDS = {
    "id",
    "invoice_number",
    "title",
    "recipient",
    "due_date",
    "items",
    "shipping_fee",
    "discount",
    "tax",
    "note",
    "status",
    "public_id",
    "account",
    "payment",
    "created_at",
    "update_at",
    "business_id",
}


async def _customer(api: Api, external_id: str | None = None) -> str:
    """A customer made natively, with the id a previous system gave it if any; its Risiti id."""
    body: dict[str, Any] = {"name": "Mwenda Deno"}
    if external_id is not None:
        body["external_id"] = external_id
    made = await call(api, "POST", "/v1/customers", body)
    assert made.status == 201, made.body
    return str(made.data["id"])


def _example_for(recipient: str) -> dict[str, Any]:
    """The sample request naming a customer by its Risiti id, for tests about other fields."""
    return json.loads(CREATE_BODY) | {"recipient": recipient}


async def _refused(api: Api, pool: asyncpg.Pool, account: OpenedAccount, body: Any) -> Answer:
    """`body` sent to Duplo's create: its answer, having checked it changed nothing."""
    before = await event_count(pool, account.account_id)
    refused = await call(api, "POST", CREATE, body)
    assert await event_count(pool, account.account_id) == before
    return refused


async def test_duplos_documented_request_reads_7000_less_500_plus_650_tax_and_100_shipping_as_7250(
    api: Api,
) -> None:
    customer_id = await _customer(api, external_id=RECIPIENT)

    created = await send_bytes(api, "POST", CREATE, CREATE_BODY)

    assert created.status == 201, created.body
    assert created.body["errors"] == {}
    assert created.body["message"] == "Request successful"
    data = created.data
    assert set(data) == DOCUMENTED_FIELDS | {"risiti"}
    assert data["recipient"] == RECIPIENT
    assert data["risiti"]["customer_id"] == customer_id
    assert data["title"] == "Invoice for Mwenda Deno"
    assert [
        (item["name"], item["quantity"], item["unit_price"], item["total"])
        for item in data["items"]
    ] == [
        ("Banana", 50, 100, 5000),
        ("Apple", 20, 100, 2000),
    ]
    assert data["shipping_fee"] == 100
    assert data["discount"] == {"type": "amount", "value": 500}
    assert data["tax"] == {"type": "percentage", "value": 10, "description": "sample description t"}
    figures = data["risiti"]
    assert (figures["subtotal"], figures["discount_total"], figures["tax_total"]) == (
        7000,
        500,
        650,
    )
    assert figures["total"] == figures["amount_due"] == 7250
    assert data["status"] == "invoice"
    assert data["invoice_number"]
    assert data["due_date"] == "2022-06-12T00:00:00.000Z"
    assert data["note"] == "sample note for creating this invoice for another test"
    assert data["business_id"] == "45ee9f61-dd52-4f51-bccb-8ea711760"
    assert figures["view_url"].endswith(f"/i/{data['public_id']}")
    assert data["account"] is None
    assert data["payment"] is None


async def test_an_invoice_made_through_duplo_reads_in_kobo_natively(api: Api) -> None:
    customer_id = await _customer(api, external_id=RECIPIENT)
    created = (await send_bytes(api, "POST", CREATE, CREATE_BODY)).data

    native = await call(api, "GET", f"/v1/invoices/{created['id']}")

    assert native.status == 200, native.body
    invoice = native.data
    assert invoice["customer"]["id"] == customer_id
    assert invoice["currency"] == "NGN"
    assert [item["unit_price"] for item in invoice["items"]] == [10000, 10000]
    assert [item["amount"] for item in invoice["items"]] == [500000, 200000]
    assert (invoice["subtotal"], invoice["discount_total"], invoice["tax_total"]) == (
        700000,
        50000,
        65000,
    )
    assert (invoice["shipping_fee"], invoice["total"]) == (10000, 725000)
    assert invoice["status"] == "open"
    assert invoice["document_number"] == created["invoice_number"]
    assert invoice["taxes"][0]["name"] == "sample description t"
    assert invoice["metadata"] == {"duplo_business_id": "45ee9f61-dd52-4f51-bccb-8ea711760"}


async def test_an_invoice_made_natively_reads_through_duplo_in_naira(api: Api) -> None:
    customer_id = await _customer(api)
    made = await call(
        api,
        "POST",
        "/v1/invoices",
        {
            "customer_id": customer_id,
            "items": [{"description": "Consulting", "quantity": 2, "unit_price": 250050}],
            "discount": {"type": "percentage", "value": 10},
            "shipping_fee": 1999,
        },
    )
    assert made.status == 201, made.body

    read = await call(api, "GET", f"{DUPLO}/merchants/invoice/{made.data['id']}")

    assert read.status == 200, read.body
    data = read.data
    assert data["items"] == [
        {"name": "Consulting", "total": 5001, "quantity": 2, "unit_price": 2500.5}
    ]
    assert data["discount"] == {"type": "percentage", "value": 10}
    assert data["shipping_fee"] == 19.99
    assert data["tax"] is None
    assert data["recipient"] == customer_id
    assert data["business_id"] is None
    assert data["risiti"]["total"] == made.data["total"] / 100


async def test_every_documented_field_of_duplos_create_has_its_effect(api: Api) -> None:
    customer_id = await _customer(api)
    body = {
        "business_id": "80efed51-96fc-43c7-9075-9f78877d26bc",
        "recipient_ref": customer_id,
        "due_date": "2031-05-25T00:00:00.000Z",
        "items": [
            {"name": "Bananna", "quantity": "15", "unit_price": "500.7"},
            {"name": "Apple", "quantity": 2.5, "unit_price": 100.6},
        ],
        "shipping_fee": "670.9",
        "discount": {"type": "percentage", "value": "10"},
        "tax": {"type": "percentage", "value": 7.5, "description": "VAT"},
        "note": "sample note",
        "status": "invoice",
        "invoice_number": "7868993647",
    }

    created = await call(api, "POST", CREATE, body)

    assert created.status == 201, created.body
    data = created.data
    assert data["business_id"] == "80efed51-96fc-43c7-9075-9f78877d26bc"
    assert data["recipient"] == data["risiti"]["customer_id"] == customer_id
    assert data["due_date"] == "2031-05-25T00:00:00.000Z"
    # 15 x 500.70 = 7510.50 and 2.5 x 100.60 = 251.50: exact, in kobo, never floats.
    assert [(item["quantity"], item["unit_price"], item["total"]) for item in data["items"]] == [
        (15, 500.7, 7510.5),
        (2.5, 100.6, 251.5),
    ]
    assert data["shipping_fee"] == 670.9
    assert data["discount"] == {"type": "percentage", "value": 10}
    assert data["tax"] == {"type": "percentage", "value": 7.5, "description": "VAT"}
    assert data["note"] == "sample note"
    assert data["status"] == "invoice"
    assert data["invoice_number"] == "7868993647"
    figures = data["risiti"]
    # Subtotal 7762.00; 10 % off is 776.20; 7.5 % of the 6985.80 left is 523.94 (per line,
    # half up: 506.96 + 16.98); plus 670.90 shipping, untaxed.
    assert (figures["subtotal"], figures["discount_total"]) == (7762, 776.2)
    assert figures["tax_total"] == 523.94
    assert figures["total"] == 8180.64
    native = (await call(api, "GET", f"/v1/invoices/{data['id']}")).data
    assert (native["subtotal"], native["discount_total"], native["tax_total"]) == (
        776200,
        77620,
        52394,
    )
    assert native["total"] == 776200 - 77620 + 52394 + 67090
    assert native["issue_date"] <= native["due_date"] == "2031-05-25"


async def test_duplos_draft_status_keeps_a_draft_without_a_number(api: Api) -> None:
    customer_id = await _customer(api)

    created = await call(api, "POST", CREATE, _example_for(customer_id) | {"status": "draft"})

    assert created.status == 201, created.body
    assert created.data["status"] == "draft"
    assert created.data["invoice_number"] is None
    assert created.data["risiti"]["status"] == "draft"


async def test_duplo_reads_an_invoice_by_id_and_by_invoice_number(api: Api) -> None:
    customer_id = await _customer(api)
    created = (await call(api, "POST", CREATE, _example_for(customer_id))).data

    by_id = await call(api, "GET", f"{CREATE}/{created['id']}")
    by_number = await call(api, "GET", f"{CREATE}/{created['invoice_number']}")

    assert by_id.status == by_number.status == 200
    assert (
        by_id.body
        == by_number.body
        == {
            "data": created,
            "errors": {},
            "message": "Request successful",
        }
    )


async def test_a_part_payment_recorded_natively_is_duplos_payment_on_an_issued_invoice(
    api: Api,
) -> None:
    customer_id = await _customer(api)
    created = (await call(api, "POST", CREATE, _example_for(customer_id))).data
    paid = await call(
        api,
        "POST",
        f"/v1/invoices/{created['id']}/payments",
        {"amount": 250050, "method": "bank", "reference": "TRF-1"},
    )
    assert paid.status == 201, paid.body

    read = (await call(api, "GET", f"{CREATE}/{created['id']}")).data

    assert read["status"] == "invoice"
    assert read["payment"]["amount"] == 2500.5
    assert (read["payment"]["method"], read["payment"]["reference"]) == ("bank", "TRF-1")
    assert read["risiti"]["status"] == "partially_paid"
    assert (read["risiti"]["amount_paid"], read["risiti"]["amount_due"]) == (2500.5, 4749.5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"items": [{"name": "Banana", "quantity": "50", "unit_price": "100.001"}]},
            "items.0.unit_price",
        ),
        ({"items": [{"name": "Banana", "quantity": "0", "unit_price": "100"}]}, "items.0.quantity"),
        (
            {"items": [{"name": "Banana", "quantity": "50", "unit_price": "one hundred"}]},
            "items.0.unit_price",
        ),
        ({"items": []}, "items"),
        ({"shipping_fee": "-1"}, "shipping_fee"),
        ({"shipping_fee": "0.005"}, "shipping_fee"),
        ({"discount": {"type": "amount", "value": "0.001"}}, "discount.value"),
        ({"discount": {"type": "amount", "value": "7000.01"}}, "discount"),
        ({"discount": {"type": "percentage", "value": "100.5"}}, "discount"),
        ({"discount": {"type": "coupon", "value": "5"}}, "discount.type"),
        ({"tax": {"type": "amount", "value": 10}}, "tax.type"),
        ({"tax": {"type": "percentage", "value": 101}}, "tax.value"),
        ({"status": "paid"}, "status"),
        ({"due_date": "next week"}, "due_date"),
        ({"invoice_number": ""}, "invoice_number"),
        ({"currency": "USD"}, "currency"),
    ],
)
async def test_a_duplo_field_that_cannot_be_honoured_is_refused_naming_it(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, change: dict[str, Any], field: str
) -> None:
    customer_id = await _customer(api)

    refused = await _refused(api, pool, account, _example_for(customer_id) | change)

    assert refused.status == 422, refused.body
    assert refused.body["data"] is None
    assert list(refused.body["errors"]) == [field]
    assert refused.body["risiti"]["code"] == "validation_error"


@pytest.mark.parametrize("field", ["recipient", "recipient_ref"])
@pytest.mark.parametrize("names", ["an external id", "a Risiti id"])
async def test_a_recipient_that_is_no_customer_is_refused_naming_it(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, field: str, names: str
) -> None:
    reference = "cus_nobody" if names == "an external id" else str(account.account_id)
    body = {k: v for k, v in json.loads(CREATE_BODY).items() if k != "recipient"}

    refused = await _refused(api, pool, account, body | {field: reference})

    assert refused.status == 422, refused.body
    assert list(refused.body["errors"]) == [field]


async def test_recipient_ref_and_recipient_name_one_customer_so_one_is_sent(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    customer_id = await _customer(api)
    both = _example_for(customer_id) | {"recipient_ref": customer_id}
    neither = {k: v for k, v in _example_for(customer_id).items() if k != "recipient"}

    refused_both = await _refused(api, pool, account, both)
    refused_neither = await _refused(api, pool, account, neither)

    assert (refused_both.status, refused_neither.status) == (422, 422)
    assert list(refused_both.body["errors"]) == ["recipient"]
    assert list(refused_neither.body["errors"]) == ["recipient_ref"]


async def test_an_invoice_number_already_used_is_refused_naming_it(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    customer_id = await _customer(api)
    body = _example_for(customer_id) | {"invoice_number": "7868993647"}
    assert (await call(api, "POST", CREATE, body)).status == 201

    refused = await _refused(api, pool, account, body)

    assert refused.status == 422, refused.body
    assert list(refused.body["errors"]) == ["invoice_number"]


async def test_duplo_errors_come_in_duplos_envelope(api: Api) -> None:
    missing = await call(api, "GET", f"{CREATE}/7868993647")

    assert missing.status == 404
    assert set(missing.body) == {"data", "errors", "message", "risiti"}
    assert missing.body["data"] is None
    assert missing.body["errors"] == {}
    assert missing.body["risiti"]["code"] == "not_found"


async def test_duplos_openapi_document_is_valid_and_served_under_its_base_path(api: Api) -> None:
    response = await api.http.get(f"{DUPLO}/openapi.json")
    document = await response.json()

    assert response.status == 200
    assert document == dialect_document("duplo", document["servers"][0]["url"][: -len(DUPLO)])
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema
    assert set(document["paths"]) == {
        "/merchants/invoice",
        "/merchants/invoice/{id}",
        "/openapi.json",
    }
