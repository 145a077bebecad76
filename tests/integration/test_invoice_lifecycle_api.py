"""Every invoice endpoint over real HTTP, from draft to paid or void (DESIGN.md §4, §6); and the
customers and tax rates invoices refer to."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount
from risiti.domain.invoice import ALLOWED_ACTIONS

from .conftest import KREDO_INVOICE, Api, wait_until
from .http_calls import assert_invalid_state, call, event_count

pytestmark = pytest.mark.asyncio

DRAFT = {**KREDO_INVOICE, "status": "draft"}
PARTIAL = {**KREDO_INVOICE, "accept_partial_payments": True}
TOTAL = 250000
SEED_EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "examples"
"""The seed documents' request bodies exactly as published (../shared/seeds/examples)."""


async def _created(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    answer = await call(api, "POST", "/v1/invoices", body)
    assert answer.status == 201, answer.body
    invoice: dict[str, Any] = answer.data
    return invoice


async def _then(api: Api, invoice: dict[str, Any], action: str, body: Any = None) -> None:
    answer = await call(api, "POST", f"/v1/invoices/{invoice['id']}/{action}", body or {})
    assert answer.status in (200, 201), answer.body


async def a_draft(api: Api) -> dict[str, Any]:
    return await _created(api, DRAFT)


async def an_open_invoice(api: Api) -> dict[str, Any]:
    return await _created(api, KREDO_INVOICE)


async def a_partially_paid_invoice(api: Api) -> dict[str, Any]:
    invoice = await _created(api, PARTIAL)
    await _then(api, invoice, "payments", {"amount": 100000})
    return invoice


async def a_paid_invoice(api: Api) -> dict[str, Any]:
    invoice = await _created(api, KREDO_INVOICE)
    await _then(api, invoice, "mark-paid")
    return invoice


async def a_void_invoice(api: Api) -> dict[str, Any]:
    invoice = await _created(api, KREDO_INVOICE)
    await _then(api, invoice, "void", {"reason": "issued by mistake"})
    return invoice


STATES: dict[str, Callable[[Api], Awaitable[dict[str, Any]]]] = {
    "draft": a_draft,
    "open": an_open_invoice,
    "partially_paid": a_partially_paid_invoice,
    "paid": a_paid_invoice,
    "void": a_void_invoice,
}


async def _read(api: Api, invoice_id: str) -> dict[str, Any]:
    answer = await call(api, "GET", f"/v1/invoices/{invoice_id}")
    assert answer.status == 200, answer.body
    invoice: dict[str, Any] = answer.data
    return invoice


# --- PATCH ---------------------------------------------------------------------------------


async def test_patching_a_draft_may_change_any_field_and_recomputes_the_totals(api: Api) -> None:
    draft = await a_draft(api)

    answer = await call(
        api,
        "PATCH",
        f"/v1/invoices/{draft['id']}",
        {
            "items": [
                {"description": "Web Development Fee", "quantity": 1, "rate": "150000"},
                {"description": "Domain Registration", "quantity": 4, "rate": "2500"},
            ],
            "tax_rate": 5,
            "currency": "usd",
            "customer_name": "Dana K. Adrian",
            "note": "Thank you.",
        },
    )

    assert answer.status == 200, answer.body
    invoice = answer.data
    assert [item["amount"] for item in invoice["items"]] == [150000, 10000]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (160000, 8000, 168000)
    assert invoice["amount_due"] == 168000
    assert invoice["currency"] == "USD"
    assert invoice["customer"]["name"] == "Dana K. Adrian"
    assert invoice["note"] == "Thank you."
    assert invoice["version"] == draft["version"] + 1
    assert answer.headers["ETag"] == f'"{invoice["version"]}"'
    assert await _read(api, draft["id"]) == invoice


async def test_patching_an_open_invoice_may_change_note_due_date_metadata_and_reference(
    api: Api,
) -> None:
    invoice = await an_open_invoice(api)
    changes = {
        "note": "Pay by transfer",
        "due_date": "2099-01-31",
        "metadata": {"order_id": "456"},
        "reference": "PO-9",
    }

    answer = await call(api, "PATCH", f"/v1/invoices/{invoice['id']}", changes)

    assert answer.status == 200, answer.body
    assert {name: answer.data[name] for name in changes} == changes
    assert answer.data["total"] == TOTAL


@pytest.mark.parametrize(
    "changes",
    [
        {"items": [{"description": "More", "qty": 2, "price": 1000}]},
        {"tax_rate": 5},
        {"customer_name": "Someone Else"},
        {"note": "fine", "shipping_fee": 100},
    ],
    ids=["items", "tax_rate", "customer", "note-with-shipping"],
)
async def test_patching_the_figures_of_a_paid_invoice_is_an_invalid_state_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, changes: dict[str, Any]
) -> None:
    # An open invoice's figures are amended instead (test_invoice_amendment_api.py).
    invoice = await _read(api, (await a_paid_invoice(api))["id"])
    before = await event_count(pool, account.account_id)

    answer = await call(api, "PATCH", f"/v1/invoices/{invoice['id']}", changes)

    assert_invalid_state(answer, "paid", ALLOWED_ACTIONS["paid"])
    assert await event_count(pool, account.account_id) == before
    assert await _read(api, invoice["id"]) == invoice


async def test_patching_a_draft_with_bad_figures_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    draft = await a_draft(api)
    before = await event_count(pool, account.account_id)

    answer = await call(
        api,
        "PATCH",
        f"/v1/invoices/{draft['id']}",
        {"discount": {"type": "amount", "value": 1}}
        | {"items": [{"description": "x", "qty": 1, "price": 0}]},
    )

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    assert answer.error["details"][0]["field"] == "discount"
    assert await event_count(pool, account.account_id) == before


async def test_a_patch_that_changes_nothing_appends_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await an_open_invoice(api)
    before = await event_count(pool, account.account_id)

    empty = await call(api, "PATCH", f"/v1/invoices/{invoice['id']}", {})
    same = await call(api, "PATCH", f"/v1/invoices/{invoice['id']}", {"note": invoice["note"]})

    assert (empty.status, same.status) == (200, 200), (empty.body, same.body)
    assert empty.data["version"] == same.data["version"] == invoice["version"]
    assert await event_count(pool, account.account_id) == before


async def test_patching_away_the_issue_date_of_a_draft_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    draft = await a_draft(api)
    before = await event_count(pool, account.account_id)

    answer = await call(api, "PATCH", f"/v1/invoices/{draft['id']}", {"issue_date": None})

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "issue_date"
    assert await event_count(pool, account.account_id) == before


async def test_patching_a_tax_rate_and_tax_rate_ids_together_applies_both_as_create_does(
    api: Api,
) -> None:
    rate = await call(api, "POST", "/v1/tax-rates", {"name": "VAT", "percentage": "7.5"})
    taxes = {"tax_rate": 5, "tax_rate_ids": [rate.data["id"]]}
    created = await _created(api, DRAFT | taxes)
    draft = await a_draft(api)

    patched = await call(api, "PATCH", f"/v1/invoices/{draft['id']}", taxes)

    assert patched.status == 200, patched.body
    assert patched.data["taxes"] == created["taxes"]
    assert [tax["percentage"] for tax in patched.data["taxes"]] == ["5", "7.5"]
    assert patched.data["tax_total"] == created["tax_total"] == 12500 + 18750


# --- DELETE --------------------------------------------------------------------------------


async def test_deleting_a_draft_makes_it_not_found(api: Api) -> None:
    draft = await a_draft(api)

    answer = await call(api, "DELETE", f"/v1/invoices/{draft['id']}")

    assert answer.status == 200, answer.body
    assert answer.data == {"id": draft["id"], "object": "invoice", "deleted": True}
    gone = await call(api, "GET", f"/v1/invoices/{draft['id']}")
    assert gone.status == 404
    assert gone.error["code"] == "not_found"


async def test_a_deleted_draft_leaves_the_invoice_list(api: Api, projector: None) -> None:
    kept = await an_open_invoice(api)
    draft = await a_draft(api)

    async def listed_ids() -> list[str]:
        answer = await call(api, "GET", "/v1/invoices")
        return [invoice["id"] for invoice in answer.data]

    await wait_until(lambda: _equals(listed_ids, [draft["id"], kept["id"]]))
    assert (await call(api, "DELETE", f"/v1/invoices/{draft['id']}")).status == 200

    await wait_until(lambda: _equals(listed_ids, [kept["id"]]))


async def _equals(read: Callable[[], Awaitable[Any]], expected: Any) -> bool:
    return bool(await read() == expected)


async def test_deleting_an_open_invoice_is_an_invalid_state_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await an_open_invoice(api)
    before = await event_count(pool, account.account_id)

    answer = await call(api, "DELETE", f"/v1/invoices/{invoice['id']}")

    assert_invalid_state(answer, "open", ALLOWED_ACTIONS["open"])
    assert await event_count(pool, account.account_id) == before
    assert (await _read(api, invoice["id"]))["status"] == "open"


# --- finalize, send ------------------------------------------------------------------------


async def test_finalizing_a_draft_opens_it_under_the_next_number(api: Api) -> None:
    draft = await a_draft(api)

    answer = await call(api, "POST", f"/v1/invoices/{draft['id']}/finalize")

    assert answer.status == 200, answer.body
    assert answer.data["status"] == "open"
    assert re.fullmatch(r"INV-\d{4}-0001", answer.data["document_number"])
    by_number = await call(api, "GET", f"/v1/invoices/{answer.data['document_number']}")
    assert by_number.data["id"] == draft["id"]


async def test_sending_without_an_address_goes_to_the_customer_email_and_logs_each_send(
    api: Api,
) -> None:
    invoice = await an_open_invoice(api)
    path = f"/v1/invoices/{invoice['id']}/send"

    first = await call(api, "POST", path, {})
    second = await call(api, "POST", path, {"email": "accounts@afritech.test"})

    assert (first.status, second.status) == (202, 202), (first.body, second.body)
    assert [entry["email"] for entry in first.data["send_log"]] == ["billing@afritech.test"]
    assert [entry["email"] for entry in second.data["send_log"]] == [
        "billing@afritech.test",
        "accounts@afritech.test",
    ]


async def test_sending_with_no_email_anywhere_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    no_email = {k: v for k, v in KREDO_INVOICE.items() if k != "customer_email"}
    invoice = await _created(api, no_email)
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", f"/v1/invoices/{invoice['id']}/send", {})

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    assert answer.error["details"][0]["field"] == "email"
    assert await event_count(pool, account.account_id) == before


# --- payments, mark-paid, mark-unpaid, void ------------------------------------------------


async def test_a_partial_payment_is_recorded_whether_or_not_the_invoice_offers_them(
    api: Api,
) -> None:
    strict = await an_open_invoice(api)
    lenient = await _created(api, PARTIAL)

    for invoice in (strict, lenient):
        path = f"/v1/invoices/{invoice['id']}/payments"
        recorded = await call(api, "POST", path, {"amount": 1000})
        assert recorded.status == 201, recorded.body
        assert recorded.data["status"] == "partially_paid"
        assert (recorded.data["amount_paid"], recorded.data["amount_due"]) == (1000, TOTAL - 1000)


async def test_partial_payment_on_an_invoice_created_with_kredos_body_is_recorded(
    api: Api,
) -> None:
    body = (SEED_EXAMPLES / "kredo-create-invoice.json").read_bytes()
    response = await api.http.post(
        "/v1/invoices",
        data=body,
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    created = await response.json()
    assert response.status == 201, created
    invoice = created["data"]
    assert (invoice["status"], invoice["accept_partial_payments"]) == ("open", False)

    paid = await call(
        api, "POST", f"/v1/invoices/{invoice['id']}/payments", {"amount": 100000, "method": "cash"}
    )

    assert paid.status == 201, paid.body
    assert paid.data["status"] == "partially_paid"
    assert (paid.data["amount_paid"], paid.data["amount_due"]) == (
        100000,
        invoice["total"] - 100000,
    )


async def test_max_installments_does_not_limit_what_the_business_records(api: Api) -> None:
    invoice = await _created(api, PARTIAL | {"max_installments": 2})
    path = f"/v1/invoices/{invoice['id']}/payments"
    for amount in (100000, 50000):
        recorded = await call(api, "POST", path, {"amount": amount})
        assert recorded.status == 201, recorded.body

    last = await call(api, "POST", path, {"amount": 100000, "reference": "TRF-3"})
    assert last.status == 201, last.body
    assert last.data["status"] == "paid"
    assert [p["amount"] for p in last.data["payments"]] == [100000, 50000, 100000]


async def test_a_payment_over_the_balance_is_refused_with_the_amount_due(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await a_partially_paid_invoice(api)
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", f"/v1/invoices/{invoice['id']}/payments", {"amount": 150001})

    assert answer.status == 409, answer.body
    assert answer.error["code"] == "payment_exceeds_balance"
    assert answer.error["details"] == [{"field": "amount", "amount_due": 150000}]
    assert await event_count(pool, account.account_id) == before


async def test_mark_paid_records_the_balance_and_mark_unpaid_reverses_every_payment(
    api: Api,
) -> None:
    invoice = await a_partially_paid_invoice(api)

    paid = await call(api, "POST", f"/v1/invoices/{invoice['id']}/mark-paid", {"method": "cash"})
    assert paid.status == 200, paid.body
    assert paid.data["status"] == "paid"
    assert (paid.data["amount_paid"], paid.data["amount_due"]) == (TOTAL, 0)
    assert [p["amount"] for p in paid.data["payments"]] == [100000, 150000]

    unpaid = await call(
        api, "POST", f"/v1/invoices/{invoice['id']}/mark-unpaid", {"reason": "bounced"}
    )
    assert unpaid.status == 200, unpaid.body
    assert unpaid.data["status"] == "open"
    assert (unpaid.data["amount_paid"], unpaid.data["amount_due"]) == (0, TOTAL)
    assert all(p["reversed_at"] for p in unpaid.data["payments"])


async def test_voiding_an_open_invoice_keeps_its_number(api: Api) -> None:
    invoice = await an_open_invoice(api)

    answer = await call(api, "POST", f"/v1/invoices/{invoice['id']}/void", {"reason": "typo"})

    assert answer.status == 200, answer.body
    assert answer.data["status"] == "void"
    assert answer.data["document_number"] == invoice["document_number"]


async def test_an_invoice_whose_payments_were_reversed_may_be_voided(api: Api) -> None:
    invoice = await a_paid_invoice(api)
    await _then(api, invoice, "mark-unpaid")

    answer = await call(api, "POST", f"/v1/invoices/{invoice['id']}/void")

    assert answer.status == 200, answer.body
    assert answer.data["status"] == "void"


async def test_voiding_a_partially_paid_invoice_names_its_status_and_what_it_allows(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await a_partially_paid_invoice(api)
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", f"/v1/invoices/{invoice['id']}/void")

    assert_invalid_state(answer, "partially_paid", ALLOWED_ACTIONS["partially_paid"])
    assert "void" not in answer.error["details"][0]["allowed"]
    assert await event_count(pool, account.account_id) == before


REFUSED = [
    ("draft", "POST", "send", {"email": "a@b.test"}),
    ("draft", "POST", "payments", {"amount": TOTAL}),
    ("draft", "POST", "mark-paid", {}),
    ("draft", "POST", "mark-unpaid", {}),
    ("open", "POST", "finalize", {}),
    ("open", "POST", "mark-unpaid", {}),
    ("partially_paid", "POST", "finalize", {}),
    ("partially_paid", "DELETE", "", None),
    ("paid", "POST", "finalize", {}),
    ("paid", "POST", "payments", {"amount": 1}),
    ("paid", "POST", "mark-paid", {}),
    ("paid", "POST", "void", {}),
    ("paid", "DELETE", "", None),
    ("void", "POST", "finalize", {}),
    ("void", "POST", "send", {}),
    ("void", "POST", "payments", {"amount": 1}),
    ("void", "POST", "mark-paid", {}),
    ("void", "POST", "mark-unpaid", {}),
    ("void", "POST", "void", {}),
    ("void", "PATCH", "", {"note": "too late"}),
    ("void", "DELETE", "", None),
]


@pytest.mark.parametrize(
    ("state", "method", "action", "body"),
    REFUSED,
    ids=[
        f"{state}-{method.lower()}{'-' + action if action else ''}"
        for state, method, action, _ in REFUSED
    ],
)
async def test_a_refused_transition_is_409_invalid_state_naming_current_and_allowed(
    api: Api,
    pool: asyncpg.Pool,
    account: OpenedAccount,
    state: str,
    method: str,
    action: str,
    body: Any,
) -> None:
    invoice = await STATES[state](api)
    before = await event_count(pool, account.account_id)
    path = f"/v1/invoices/{invoice['id']}" + (f"/{action}" if action else "")

    answer = await call(api, method, path, body)

    assert_invalid_state(answer, state, ALLOWED_ACTIONS[state])
    assert answer.error["request_id"].startswith("req_")
    assert await event_count(pool, account.account_id) == before
    assert (await _read(api, invoice["id"]))["status"] == state


# --- receipts ------------------------------------------------------------------------------


async def test_receipts_are_issued_paid_with_their_own_series(api: Api) -> None:
    invoice = await an_open_invoice(api)
    first = await _created(api, {**KREDO_INVOICE, "type": "receipt", "payment_method": "cash"})
    second = await _created(api, {**KREDO_INVOICE, "type": "receipt", "status": "draft"})

    year = invoice["document_number"].split("-")[1]
    assert invoice["document_number"] == f"INV-{year}-0001"
    assert [first["document_number"], second["document_number"]] == [
        f"RCT-{year}-0001",
        f"RCT-{year}-0002",
    ]
    assert {first["status"], second["status"]} == {"paid"}
    assert first["payments"][0]["method"] == "cash"
    assert (first["amount_paid"], first["amount_due"]) == (TOTAL, 0)


# --- customers -----------------------------------------------------------------------------


async def test_a_customer_is_created_read_back_and_listed_newest_first_by_cursor(
    api: Api,
) -> None:
    created = []
    for index in range(5):
        body = {"name": f"Customer {index}", "email": f"c{index}@shop.test", "phone": "+234"}
        answer = await call(api, "POST", "/v1/customers", body)
        assert answer.status == 201, answer.body
        created.append(answer.data)

    read = await call(api, "GET", f"/v1/customers/{created[0]['id']}")
    assert (read.status, read.data) == (200, created[0])
    pages = [await call(api, "GET", "/v1/customers?limit=2")]
    while pages[-1].body["has_more"]:
        pages.append(
            await call(api, "GET", f"/v1/customers?limit=2&cursor={pages[-1].body['next_cursor']}")
        )
    after = await call(api, "GET", f"/v1/customers?starting_after={created[2]['id']}")

    assert [c["id"] for page in pages for c in page.data] == [c["id"] for c in reversed(created)]
    assert [len(page.data) for page in pages] == [2, 2, 1]
    assert pages[-1].body["next_cursor"] is None
    assert [c["id"] for c in after.data] == [created[1]["id"], created[0]["id"]]


async def test_an_unknown_customer_is_not_found(api: Api) -> None:
    for named in ("00000000-0000-0000-0000-000000000000", "cus_GnXkWlEOtw"):
        answer = await call(api, "GET", f"/v1/customers/{named}")
        assert answer.status == 404, answer.body
        assert answer.error["code"] == "not_found"


@pytest.mark.parametrize("listed", ["customers", "tax-rates", "invoices"])
async def test_listing_after_an_unknown_id_is_not_found(api: Api, listed: str) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    answer = await call(api, "GET", f"/v1/{listed}?starting_after={unknown}")
    assert answer.status == 404, answer.body
    assert answer.error["code"] == "not_found"


async def test_inline_customers_with_a_known_email_link_to_that_customer(api: Api) -> None:
    customer = await call(
        api, "POST", "/v1/customers", {"name": "AfriTech", "email": "billing@afritech.test"}
    )
    assert customer.status == 201, customer.body

    first = await _created(api, KREDO_INVOICE)
    second = await _created(api, {**KREDO_INVOICE, "customer_email": " Billing@AfriTech.test "})

    assert first["customer"]["id"] == second["customer"]["id"] == customer.data["id"]
    assert second["customer"]["email"] == "billing@afritech.test"


async def test_inline_customers_with_a_new_email_become_one_customer(api: Api) -> None:
    first = await _created(api, {**KREDO_INVOICE, "customer_email": "new@client.test"})
    second = await _created(api, {**KREDO_INVOICE, "customer_email": "new@client.test"})

    assert first["customer"]["id"] is not None
    assert first["customer"]["id"] == second["customer"]["id"]
    listed = await call(api, "GET", "/v1/customers")
    assert [c["id"] for c in listed.data] == [first["customer"]["id"]]


async def test_concurrent_invoices_for_one_new_email_create_one_customer(api: Api) -> None:
    body = {**KREDO_INVOICE, "customer_email": "rush@client.test"}

    invoices = await asyncio.gather(*(call(api, "POST", "/v1/invoices", body) for _ in range(10)))

    assert [i.status for i in invoices] == [201] * 10, [i.body for i in invoices]
    listed = await call(api, "GET", "/v1/customers")
    assert [c["email"] for c in listed.data] == ["rush@client.test"]
    assert {i.data["customer"]["id"] for i in invoices} == {listed.data[0]["id"]}


async def test_a_second_customer_with_the_same_email_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    body = {"name": "Ada", "email": "ada@example.test"}
    assert (await call(api, "POST", "/v1/customers", body)).status == 201
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", "/v1/customers", body | {"email": "ADA@example.test"})

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    assert answer.error["details"][0]["field"] == "email"
    assert await event_count(pool, account.account_id) == before


# --- tax rates -----------------------------------------------------------------------------


async def test_a_tax_rate_keeps_four_decimal_places_and_is_listed(api: Api) -> None:
    answer = await call(
        api, "POST", "/v1/tax-rates", {"name": "VAT", "percentage": 7.1234, "inclusive": True}
    )

    assert answer.status == 201, answer.body
    assert answer.data["percentage"] == "7.1234"
    assert answer.data["inclusive"] is True
    listed = await call(api, "GET", "/v1/tax-rates")
    assert listed.status == 200
    assert listed.data == [answer.data]


@pytest.mark.parametrize(
    "percentage", [7.12345, "7.12345", 100.01, 101, -1], ids=["5dp", "5dp-str", ">100", "101", "<0"]
)
async def test_a_tax_rate_out_of_range_or_too_precise_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, percentage: Any
) -> None:
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", "/v1/tax-rates", {"name": "VAT", "percentage": percentage})

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    assert answer.error["details"][0]["field"] == "percentage"
    assert await event_count(pool, account.account_id) == before
    assert (await call(api, "GET", "/v1/tax-rates")).data == []
