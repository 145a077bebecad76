"""Input that is JSON, or nearly, but that no invoice can hold: refused with a clear error,
quickly, and without appending anything that every reader of the log would then trip over."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import Api
from .http_calls import call, event_count

ITEM = '{"description": "Design", "unit_price": 5000}'


async def _post_raw(api: Api, path: str, raw: str) -> tuple[int, dict[str, Any]]:
    response = await api.http.post(
        path,
        data=raw.encode("utf-8", "surrogatepass"),
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    return response.status, await response.json()


@pytest.mark.parametrize(
    "raw",
    [
        '{"customer_name": "Ada", "items": [{"description": "x", "unit_price": 1e400}]}',
        '{"customer_name": "Ada", "items": [{"description": "x", "unit_price": Infinity}]}',
        f'{{"customer_name": "Ada", "items": [{ITEM}], "metadata": {{"k": NaN}}}}',
    ],
    ids=["overflowing-float", "infinity", "nan-in-metadata"],
)
async def test_non_finite_numbers_are_invalid_json(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, raw: str
) -> None:
    before = await event_count(pool, account.account_id)
    status, body = await _post_raw(api, "/v1/invoices", raw)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_json"
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit_price", "Infinity"),
        ("unit_price", "-Infinity"),
        ("unit_price", "1e999999999"),
        ("unit_price", "1e16"),
    ],
)
async def test_amounts_beyond_the_limit_are_refused_at_once(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, field: str, value: str
) -> None:
    before = await event_count(pool, account.account_id)
    started = time.monotonic()
    answer = await call(
        api,
        "POST",
        "/v1/invoices",
        {"customer_name": "Ada", "items": [{"description": "x", field: value}]},
    )
    assert time.monotonic() - started < 1.0
    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == f"items.0.{field}"
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize(
    "raw",
    [
        f'{{"customer_name": "Ada\\u0000", "items": [{ITEM}]}}',
        f'{{"customer_name": "Ada", "items": [{ITEM}], "metadata": {{"k": "\\ud800"}}}}',
        f'{{"customer_name": "Ada", "items": [{ITEM}], "invoice_number": "\\u0000"}}',
    ],
    ids=["nul-in-name", "lone-surrogate", "nul-number"],
)
async def test_text_postgresql_cannot_store_is_refused_naming_the_field(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, raw: str
) -> None:
    before = await event_count(pool, account.account_id)
    status, body = await _post_raw(api, "/v1/invoices", raw)
    assert status == 422, body
    assert body["error"]["code"] == "validation_error"
    assert await event_count(pool, account.account_id) == before


async def test_a_due_date_past_the_calendar_is_a_validation_error(api: Api) -> None:
    answer = await call(
        api,
        "POST",
        "/v1/invoices",
        {
            "customer_name": "Ada",
            "items": [{"description": "x", "unit_price": 100}],
            "issue_date": "9999-12-31",
            "days_until_due": 1,
        },
    )
    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "days_until_due"


async def test_a_payment_time_without_a_timezone_is_refused(api: Api) -> None:
    created = await call(
        api,
        "POST",
        "/v1/invoices",
        {"customer_name": "Ada", "items": [{"description": "x", "unit_price": 100}]},
    )
    answer = await call(
        api,
        "POST",
        f"/v1/invoices/{created.data['id']}/mark-paid",
        {"paid_at": "2024-01-01T00:00:00"},
    )
    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "paid_at"


async def test_a_nul_in_a_document_number_is_simply_not_found(api: Api) -> None:
    answer = await call(api, "GET", "/v1/invoices/INV%00")
    assert answer.status == 404, answer.body
    assert answer.error["code"] == "not_found"
