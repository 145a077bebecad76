"""The native API (`/v1`, minor units) with the seed APIs' field names and aliases that it
accepts (DESIGN.md §6): bodies shaped like theirs, in Risiti's units. The seeds' documented bodies
themselves, byte for byte and in their own units, go to their dialects: test_dialect_*.py."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api
from .http_calls import call, event_count

pytestmark = pytest.mark.asyncio

INVOICE_NG_INVOICE = {
    "customer_name": "Dana K. Adrian",
    "customer_phone": "+145677312965",
    "customer_address": "Plot 64A, Ajaguna Street, Lekki Phase 1, Lagos.",
    "description": "GSVBS Website Project",
    "currency": "NGN",
    "tax_rate": 5,
    "note": "Thank you for your patronage.",
    "items": [
        {"description": "Web Development Fee", "quantity": 1, "rate": "150000"},
        {"description": "Domain Registration", "quantity": 4, "rate": "2500"},
    ],
}


def duplo_invoice(recipient: str) -> dict[str, Any]:
    """duplo-create-invoice.txt's sample request, with `recipient` a customer of ours, without
    its `business_id`, which the native API refuses (the API key names the account; Duplo's
    dialect takes it)."""
    return {
        "recipient": recipient,
        "due_date": "2022-06-12",
        "items": [
            {"name": "Banana", "quantity": "50", "unit_price": "100"},
            {"name": "Apple", "quantity": "20", "unit_price": "100"},
        ],
        "shipping_fee": "100",
        "discount": {"type": "amount", "value": "500"},
        "tax": {"type": "percentage", "value": 10, "description": "sample description t"},
        "note": "sample note for creating this invoice for another test",
        "status": "invoice",
    }


def paycashless_invoice(tax_rate_id: str, *, auto_finalize: bool) -> dict[str, Any]:
    """paycashless-create-invoice.txt's request, camelCase as Paycashless documents it, without
    its `callbackUrl` and `returnUrl` (tests/integration/test_kredo_webhooks_and_callbacks.py
    has those)."""
    return {
        "reference": "order-456",
        "acceptPartialPayments": True,
        "description": "Website retainer",
        "currency": "NGN",
        "sendEmail": False,
        "autoFinalize": auto_finalize,
        "customer": {"email": "ops@client.test", "name": "Client Ltd", "address": "1 Marina"},
        "items": [{"name": "Retainer", "quantity": 123, "description": "Monthly", "price": 100000}],
        "taxRateIds": [tax_rate_id],
        "maxInstallments": 3,
        "daysUntilDue": 30,
        "metadata": {"customer_id": "123", "order_id": "456"},
    }


async def _customer_id(api: Api) -> str:
    answer = await call(api, "POST", "/v1/customers", {"name": "Mwenda Deno"})
    assert answer.status == 201, answer.body
    return str(answer.data["id"])


async def _tax_rate_id(api: Api, percentage: str, *, inclusive: bool) -> str:
    body = {"name": "VAT", "percentage": percentage, "inclusive": inclusive}
    answer = await call(api, "POST", "/v1/tax-rates", body)
    assert answer.status == 201, answer.body
    return str(answer.data["id"])


def assert_totals_are_the_sums_of_the_lines(invoice: dict[str, Any]) -> None:
    items = invoice["items"]
    assert sum(item["amount"] for item in items) == invoice["subtotal"]
    assert sum(item["discount_amount"] for item in items) == invoice["discount_total"]
    exclusive = invoice["tax_total"] + invoice["tax_inclusive_total"]
    assert sum(item["tax_amount"] for item in items) == exclusive
    assert invoice["total"] == (
        invoice["subtotal"]
        - invoice["discount_total"]
        + invoice["tax_total"]
        + invoice["shipping_fee"]
    )


async def test_invoice_ng_invoice_reads_160000_plus_5_percent_tax_as_168000(api: Api) -> None:
    answer = await call(api, "POST", "/v1/invoices", INVOICE_NG_INVOICE)

    assert answer.status == 201, answer.body
    invoice = answer.data
    assert [item["amount"] for item in invoice["items"]] == [150000, 10000]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (160000, 8000, 168000)
    assert invoice["amount_due"] == 168000
    assert_totals_are_the_sums_of_the_lines(invoice)


async def test_duplo_sample_request_reads_7250_with_lines_summing_to_the_totals(api: Api) -> None:
    customer_id = await _customer_id(api)

    answer = await call(api, "POST", "/v1/invoices", duplo_invoice(customer_id))

    assert answer.status == 201, answer.body
    invoice = answer.data
    assert invoice["status"] == "open"
    assert invoice["customer"]["id"] == customer_id
    assert invoice["customer"]["name"] == "Mwenda Deno"
    assert invoice["due_date"] == "2022-06-12"
    # Only a past due date was sent: the invoice is backdated to it and reads as overdue.
    assert invoice["issue_date"] == "2022-06-12"
    assert invoice["overdue"] is True
    assert invoice["shipping_fee"] == 100
    assert invoice["subtotal"] == 7000
    assert invoice["discount_total"] == 500
    assert invoice["tax_total"] == 650
    assert invoice["total"] == 7250
    assert_totals_are_the_sums_of_the_lines(invoice)


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"business_id": "45ee9f61-dd52-4f51-bccb-8ea711760"}, "business_id")],
)
async def test_a_seed_field_the_native_api_does_not_have_is_refused_naming_it(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, extra: dict[str, str], field: str
) -> None:
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", "/v1/invoices", duplo_invoice(await _customer_id(api)) | extra)

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    assert answer.error["details"] == [
        {"field": field, "message": "is not a field of this request"}
    ]
    assert await event_count(pool, account.account_id) == before + 1  # the customer only


async def test_duplo_recipient_that_is_not_a_customer_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    before = await event_count(pool, account.account_id)

    for recipient in (str(account.account_id), "cus_GnXkWlEOtw"):  # an id, an external id
        answer = await call(api, "POST", "/v1/invoices", duplo_invoice(recipient))

        assert answer.status == 422, answer.body
        assert answer.error["code"] == "validation_error"
        assert answer.error["details"][0]["field"] == "recipient"
        assert "No customer has the id or external_id" in answer.error["message"]
    assert await event_count(pool, account.account_id) == before


async def test_paycashless_request_without_auto_finalize_stays_a_draft(api: Api) -> None:
    tax_rate_id = await _tax_rate_id(api, "7.5", inclusive=False)

    answer = await call(
        api, "POST", "/v1/invoices", paycashless_invoice(tax_rate_id, auto_finalize=False)
    )

    assert answer.status == 201, answer.body
    invoice = answer.data
    assert invoice["status"] == "draft"
    assert invoice["document_number"] is None
    assert invoice["accept_partial_payments"] is True
    assert invoice["max_installments"] == 3
    assert invoice["reference"] == "order-456"
    assert invoice["metadata"] == {"customer_id": "123", "order_id": "456"}
    assert invoice["customer"]["email"] == "ops@client.test"
    assert invoice["customer"]["id"] is not None
    assert [tax["tax_rate_id"] for tax in invoice["taxes"]] == [tax_rate_id]
    issue_date = date.fromisoformat(invoice["issue_date"])
    assert invoice["due_date"] == (issue_date + timedelta(days=30)).isoformat()
    assert invoice["subtotal"] == 12300000
    assert invoice["tax_total"] == 922500
    assert invoice["total"] == 13222500


async def test_paycashless_request_with_auto_finalize_is_open_and_numbered(api: Api) -> None:
    tax_rate_id = await _tax_rate_id(api, "7.5", inclusive=False)

    answer = await call(
        api, "POST", "/v1/invoices", paycashless_invoice(tax_rate_id, auto_finalize=True)
    )

    assert answer.status == 201, answer.body
    assert answer.data["status"] == "open"
    assert re.fullmatch(r"INV-\d{4}-0001", answer.data["document_number"])
    issue_date = date.fromisoformat(answer.data["issue_date"])
    assert answer.data["due_date"] == (issue_date + timedelta(days=30)).isoformat()


async def test_paycashless_send_email_sends_the_issued_invoice_to_its_customer(api: Api) -> None:
    tax_rate_id = await _tax_rate_id(api, "7.5", inclusive=False)
    body = paycashless_invoice(tax_rate_id, auto_finalize=True) | {"sendEmail": True}

    answer = await call(api, "POST", "/v1/invoices", body)

    assert answer.status == 201, answer.body
    assert [entry["email"] for entry in answer.data["send_log"]] == ["ops@client.test"]


async def test_inclusive_tax_rate_is_contained_in_the_price_and_reported(api: Api) -> None:
    tax_rate_id = await _tax_rate_id(api, "7.5", inclusive=True)

    answer = await call(
        api, "POST", "/v1/invoices", paycashless_invoice(tax_rate_id, auto_finalize=True)
    )

    assert answer.status == 201, answer.body
    invoice = answer.data
    # 12 300 000 * 7.5 / 107.5 = 858 139.53…, rounded half-up.
    assert invoice["tax_inclusive_total"] == 858140
    assert invoice["tax_total"] == 0
    assert invoice["total"] == invoice["subtotal"] == 12300000
    assert_totals_are_the_sums_of_the_lines(invoice)


async def test_paycashless_unknown_tax_rate_id_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    before = await event_count(pool, account.account_id)
    body = paycashless_invoice("00000000-0000-0000-0000-000000000000", auto_finalize=True)

    answer = await call(api, "POST", "/v1/invoices", body)

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "tax_rate_ids.0"
    assert await event_count(pool, account.account_id) == before


async def test_kredo_request_with_status_unpaid_is_open(api: Api) -> None:
    answer = await call(api, "POST", "/v1/invoices", KREDO_INVOICE)

    assert answer.status == 201, answer.body
    assert answer.data["status"] == "open"
    assert answer.data["type"] == "invoice"
    assert answer.data["customer"]["name"] == "AfriTech Solutions"
    assert answer.data["items"][0]["quantity"] == 1
    assert answer.data["total"] == 250000


async def test_duplo_invoice_number_is_used_as_the_document_number(api: Api) -> None:
    customer_id = await _customer_id(api)

    answer = await call(
        api, "POST", "/v1/invoices", duplo_invoice(customer_id) | {"invoice_number": "7868993647"}
    )

    assert answer.status == 201, answer.body
    assert answer.data["document_number"] == "7868993647"
    by_number = await call(api, "GET", "/v1/invoices/7868993647")
    assert by_number.data["id"] == answer.data["id"]


async def test_a_second_invoice_with_a_taken_number_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    customer_id = await _customer_id(api)
    body = duplo_invoice(customer_id) | {"invoice_number": "7868993647"}
    first = await call(api, "POST", "/v1/invoices", body)
    assert first.status == 201, first.body
    before = await event_count(pool, account.account_id)

    second = await call(api, "POST", "/v1/invoices", body)

    assert second.status == 422, second.body
    assert second.error["code"] == "validation_error"
    assert second.error["details"][0]["field"] == "invoice_number"
    assert await event_count(pool, account.account_id) == before


async def test_a_draft_finalized_under_a_taken_number_is_refused_and_stays_a_draft(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    body = {**KREDO_INVOICE, "invoice_number": "A-17"}
    assert (await call(api, "POST", "/v1/invoices", body)).status == 201
    draft = await call(api, "POST", "/v1/invoices", body | {"status": "draft"})
    assert draft.status == 201, draft.body
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", f"/v1/invoices/{draft.data['id']}/finalize")

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "invoice_number"
    assert await event_count(pool, account.account_id) == before
    assert (await call(api, "GET", f"/v1/invoices/{draft.data['id']}")).data["status"] == "draft"


@pytest.mark.parametrize("number", ["INV-2026-0009", "rct-2026-1", "INV-1999-12345"])
async def test_a_number_shaped_like_the_series_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, number: str
) -> None:
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", "/v1/invoices", {**KREDO_INVOICE, "invoice_number": number})

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    assert answer.error["details"][0]["field"] == "invoice_number"
    assert await event_count(pool, account.account_id) == before
