"""The invoice endpoints over real HTTP, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api, wait_until
from .http_calls import event_count

pytestmark = pytest.mark.asyncio


async def test_kredo_documented_request_creates_an_open_numbered_invoice(api: Api) -> None:
    status, body = await api.post("/v1/invoices", KREDO_INVOICE)

    assert status == 201, body
    invoice = body["data"]
    assert body["success"] is True
    assert re.fullmatch(r"INV-\d{4}-\d{4}", invoice["document_number"])
    assert invoice["status"] == "open"
    assert invoice["total"] == 250000
    assert invoice["amount_due"] == 250000
    assert invoice["view_url"].startswith("http://risiti.test/i/")
    assert invoice["customer"]["email"] == "billing@afritech.test"


async def test_first_invoice_of_an_account_is_number_one_and_numbers_follow(api: Api) -> None:
    numbers = []
    for _ in range(3):
        _, body = await api.post("/v1/invoices", KREDO_INVOICE)
        numbers.append(body["data"]["document_number"])
    year = numbers[0].split("-")[1]
    assert numbers == [f"INV-{year}-0001", f"INV-{year}-0002", f"INV-{year}-0003"]


async def test_a_number_already_used_is_refused_and_the_second_invoice_is_not_stored(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    chosen = KREDO_INVOICE | {"invoice_number": "ACME-7"}
    first_status, _ = await api.post("/v1/invoices", chosen)
    events_before = await event_count(pool, account.account_id)

    status, body = await api.post("/v1/invoices", chosen)

    assert (first_status, status) == (201, 422)
    assert body["error"]["details"][0]["field"] == "invoice_number"
    assert await event_count(pool, account.account_id) == events_before


async def test_invoice_reads_back_by_id_and_by_number(api: Api) -> None:
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)
    invoice = created["data"]

    by_id = await api.get(f"/v1/invoices/{invoice['id']}")
    by_number = await api.get(f"/v1/invoices/{invoice['document_number']}")

    assert by_id == (200, created | {"data": invoice})
    assert by_number[1]["data"]["id"] == invoice["id"]


async def test_item_aliases_and_numeric_strings_of_the_seed_apis_are_accepted(api: Api) -> None:
    status, body = await api.post(
        "/v1/invoices",
        {
            "customer": {"name": "Dana K. Adrian", "address": "Plot 64A, Lekki"},
            "items": [
                {"name": "Bananas", "quantity": "50", "unit_price": "100"},
                {"description": "Domain Registration", "quantity": 4, "rate": "2500"},
            ],
        },
    )

    assert status == 201, body
    assert [item["amount"] for item in body["data"]["items"]] == [5000, 10000]
    assert body["data"]["total"] == 15000


async def test_draft_has_no_number_until_finalized(api: Api) -> None:
    status, body = await api.post("/v1/invoices", {**KREDO_INVOICE, "status": "draft"})

    assert status == 201
    assert body["data"]["status"] == "draft"
    assert body["data"]["document_number"] is None


async def test_receipt_is_issued_paid_with_an_rct_number(api: Api) -> None:
    status, body = await api.post("/v1/invoices", {**KREDO_INVOICE, "type": "receipt"})

    assert status == 201
    receipt = body["data"]
    assert re.fullmatch(r"RCT-\d{4}-0001", receipt["document_number"])
    assert receipt["status"] == "paid"
    assert receipt["amount_due"] == 0
    assert receipt["amount_paid"] == 250000


async def test_full_payment_marks_the_invoice_paid(api: Api) -> None:
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)
    invoice_id = created["data"]["id"]

    status, body = await api.post(
        f"/v1/invoices/{invoice_id}/payments", {"amount": 250000, "method": "bank_transfer"}
    )

    assert status == 201, body
    assert body["data"]["status"] == "paid"
    assert body["data"]["amount_due"] == 0
    assert body["data"]["payments"][0]["method"] == "bank_transfer"


async def test_partial_payment_leaves_balance_due(api: Api) -> None:
    _, created = await api.post("/v1/invoices", {**KREDO_INVOICE, "accept_partial_payments": True})

    _, body = await api.post(f"/v1/invoices/{created['data']['id']}/payments", {"amount": 100000})

    assert body["data"]["status"] == "partially_paid"
    assert body["data"]["amount_due"] == 150000


async def test_partial_payment_is_recorded_where_the_customer_is_not_offered_one(api: Api) -> None:
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)

    status, body = await api.post(
        f"/v1/invoices/{created['data']['id']}/payments", {"amount": 100000}
    )

    assert status == 201, body
    assert body["data"]["accept_partial_payments"] is False
    assert (body["data"]["status"], body["data"]["amount_due"]) == ("partially_paid", 150000)


async def test_payment_above_the_amount_due_is_refused(api: Api) -> None:
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)

    status, body = await api.post(
        f"/v1/invoices/{created['data']['id']}/payments", {"amount": 250001}
    )

    assert status == 409
    assert body["error"]["code"] == "payment_exceeds_balance"


async def test_payment_on_a_draft_is_an_invalid_state(api: Api) -> None:
    _, created = await api.post("/v1/invoices", {**KREDO_INVOICE, "status": "draft"})

    status, body = await api.post(
        f"/v1/invoices/{created['data']['id']}/payments", {"amount": 250000}
    )

    assert status == 409
    assert body["error"]["code"] == "invalid_state"
    assert body["error"]["details"][0]["current"] == "draft"


async def test_two_concurrent_payments_exceeding_the_balance_never_both_succeed(api: Api) -> None:
    for _ in range(5):
        _, created = await api.post(
            "/v1/invoices", {**KREDO_INVOICE, "accept_partial_payments": True}
        )
        path = f"/v1/invoices/{created['data']['id']}/payments"

        results = await asyncio.gather(
            api.post(path, {"amount": 150000}), api.post(path, {"amount": 150000})
        )

        assert sorted(status for status, _ in results) == [201, 409]
        _, final = await api.get(f"/v1/invoices/{created['data']['id']}")
        assert final["data"]["amount_paid"] == 150000


async def test_test_and_live_data_never_mix(api: Api, http: Any, account: OpenedAccount) -> None:
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)
    live = Api(http, account.live_key)

    status, body = await live.get(f"/v1/invoices/{created['data']['id']}")
    _, live_list = await live.get("/v1/invoices")

    assert status == 404
    assert body["error"]["code"] == "not_found"
    assert live_list["data"] == []


async def test_created_invoice_appears_in_the_list_within_a_second(
    api: Api, projector: None
) -> None:
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)

    async def listed() -> bool:
        _, body = await api.get("/v1/invoices")
        return [i["id"] for i in body["data"]] == [created["data"]["id"]]

    await wait_until(listed, timeout=1.0)


async def test_list_pages_newest_first_and_filters_by_status(api: Api, projector: None) -> None:
    ids = []
    for index in range(5):
        status = "draft" if index % 2 else "unpaid"
        _, created = await api.post("/v1/invoices", {**KREDO_INVOICE, "status": status})
        ids.append(created["data"]["id"])

    async def all_listed() -> bool:
        _, body = await api.get("/v1/invoices", limit=100)
        return len(body["data"]) == 5

    await wait_until(all_listed)
    _, first = await api.get("/v1/invoices", limit=2)
    _, second = await api.get("/v1/invoices", limit=2, cursor=first["next_cursor"])
    _, third = await api.get("/v1/invoices", limit=2, cursor=second["next_cursor"])
    _, drafts = await api.get("/v1/invoices", status="draft")
    _, unpaid = await api.get("/v1/invoices", status="unpaid")

    paged = [i["id"] for page in (first, second, third) for i in page["data"]]
    assert paged == list(reversed(ids))
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert third["next_cursor"] is None
    assert [i["id"] for i in drafts["data"]] == [ids[3], ids[1]]
    assert {i["status"] for i in unpaid["data"]} == {"open"}


async def _event_count(pool: asyncpg.Pool, account: OpenedAccount) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM events WHERE account_id = $1", account.account_id
    )
    return count


BAD_REQUESTS = [
    ("malformed json", "POST", "/v1/invoices", b'{"type": "invoice",', 400, "invalid_json"),
    (
        "negative price",
        "POST",
        "/v1/invoices",
        {**KREDO_INVOICE, "items": [{"description": "x", "qty": 1, "price": -5}]},
        422,
        "validation_error",
    ),
    ("no items", "POST", "/v1/invoices", {**KREDO_INVOICE, "items": []}, 422, "validation_error"),
    (
        "fractional kobo",
        "POST",
        "/v1/invoices",
        {**KREDO_INVOICE, "items": [{"description": "x", "qty": 1, "price": 10.5}]},
        422,
        "validation_error",
    ),
    (
        "unknown currency",
        "POST",
        "/v1/invoices",
        {**KREDO_INVOICE, "currency": "ZZZ"},
        422,
        "validation_error",
    ),
    (
        "unknown id",
        "GET",
        "/v1/invoices/00000000-0000-0000-0000-000000000000",
        None,
        404,
        "not_found",
    ),
    ("unknown number", "GET", "/v1/invoices/INV-1999-0001", None, 404, "not_found"),
    ("limit too large", "GET", "/v1/invoices?limit=500", None, 422, "validation_error"),
    ("limit zero", "GET", "/v1/invoices?limit=0", None, 422, "validation_error"),
    ("bad cursor", "GET", "/v1/invoices?cursor=nonsense", None, 422, "validation_error"),
    ("unknown route", "GET", "/v1/nothing-here", None, 404, "not_found"),
    (
        "payment to unknown invoice",
        "POST",
        "/v1/invoices/00000000-0000-0000-0000-000000000000/payments",
        {"amount": 1},
        404,
        "not_found",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
async def test_bad_input_gets_its_error_code_and_changes_nothing(
    api: Api,
    pool: asyncpg.Pool,
    account: OpenedAccount,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    before = await _event_count(pool, account)
    headers = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}
    data = body if isinstance(body, bytes) else None
    response = await api.http.request(
        method, path, headers=headers, data=data, json=None if data is not None else body
    )
    payload = await response.json()

    assert response.status == status, payload
    assert payload["success"] is False
    assert payload["error"]["code"] == code
    assert payload["error"]["request_id"].startswith("req_")
    if code == "validation_error":
        assert payload["error"]["details"][0]["field"]
    assert await _event_count(pool, account) == before


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "authentication_required"),
        ("Bearer sk_test_wrong", "invalid_api_key"),
        ("Basic abc", "authentication_required"),
    ],
)
async def test_missing_or_wrong_key_is_refused(
    http: Any, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await http.post("/v1/invoices", json=KREDO_INVOICE, headers=headers)
    body = await response.json()

    assert response.status == 401
    assert body["error"]["code"] == code


async def test_hosted_page_shows_the_invoice_without_a_key(api: Api) -> None:
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)
    path = created["data"]["view_url"].removeprefix("http://risiti.test")

    response = await api.http.get(path)
    html = await response.text()

    assert response.status == 200
    assert created["data"]["document_number"] in html
    assert "₦2,500.00" in html
    assert 'name="robots" content="noindex"' in html


async def test_health_and_readiness(http: Any) -> None:
    assert (await http.get("/healthz")).status == 200
    ready = await http.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["data"]["migrations"] >= 4
