"""Input that is JSON, or nearly, but that no invoice can hold: refused with a clear error,
quickly, and without appending anything that every reader of the log would then trip over."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import Api, wait_until
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


def _nested(depth: int) -> str:
    """A body whose metadata holds arrays `depth` deep in all (the body itself is one level)."""
    arrays = "[" * (depth - 2) + "]" * (depth - 2)
    return f'{{"customer_name": "Ada", "items": [{ITEM}], "metadata": {{"k": {arrays}}}}}'


@pytest.mark.parametrize("idempotency_key", [None, "nested-1"])
@pytest.mark.parametrize("depth", [65, 10_000])
async def test_json_nested_too_deep_is_invalid_json(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, depth: int, idempotency_key: str | None
) -> None:
    before = await event_count(pool, account.account_id)
    headers = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key

    response = await api.http.post("/v1/invoices", data=_nested(depth), headers=headers)
    body = await response.json()

    assert (response.status, body["error"]["code"]) == (400, "invalid_json"), body
    assert "64" in body["error"]["message"]
    assert await event_count(pool, account.account_id) == before


async def test_json_nested_64_deep_is_accepted(api: Api) -> None:
    status, body = await _post_raw(api, "/v1/invoices", _nested(64))
    assert status == 201, body


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream", None],
)
async def test_a_body_that_is_not_sent_as_json_is_unsupported(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, content_type: str | None
) -> None:
    before = await event_count(pool, account.account_id)
    headers = {"Authorization": f"Bearer {api.key}"}
    if content_type:
        headers["Content-Type"] = content_type
    raw = f'{{"customer_name": "Ada", "items": [{ITEM}]}}'.encode()

    response = await api.http.post("/v1/invoices", data=raw, headers=headers)
    body = await response.json()

    assert (response.status, body["error"]["code"]) == (415, "unsupported_media_type"), body
    assert await event_count(pool, account.account_id) == before


async def test_json_with_a_charset_is_json(api: Api) -> None:
    response = await api.http.post(
        "/v1/invoices",
        data=f'{{"customer_name": "Ada", "items": [{ITEM}]}}'.encode(),
        headers={
            "Authorization": f"Bearer {api.key}",
            "Content-Type": "application/json; charset=utf-8",
        },
    )
    assert response.status == 201, await response.text()


@pytest.mark.parametrize("path", ["/v1/events", "/v1/audit/checkpoints"])
@pytest.mark.parametrize("cursor", ["9223372036854775808", "-1", "1e3", "99999999999999999999999"])
async def test_a_numeric_cursor_past_bigint_is_a_validation_error(
    api: Api, path: str, cursor: str
) -> None:
    answer = await call(api, "GET", f"{path}?cursor={cursor}")
    assert (answer.status, answer.error["code"]) == (422, "validation_error"), answer.body
    assert answer.error["details"][0]["field"] == "cursor"


@pytest.mark.parametrize("path", ["/v1/events", "/v1/audit/checkpoints"])
async def test_the_largest_numeric_cursor_is_an_empty_page(api: Api, path: str) -> None:
    answer = await call(api, "GET", f"{path}?cursor={2**63 - 1}")
    assert (answer.status, answer.data, answer.body["has_more"]) == (200, [], False)


@pytest.mark.parametrize(
    "cursor",
    [
        "MjAyNi0wMS0wMVQwMDowMDowMHwwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA",
        "MDAwMS0wMS0wMVQwMDowMDowMCswNTowMHwwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA",
        "%%%",
        "a",
    ],
    ids=["no-offset", "before-the-calendar", "not-base64", "too-short"],
)
@pytest.mark.parametrize("path", ["/v1/invoices", "/v1/customers", "/v1/products"])
async def test_a_list_cursor_we_did_not_issue_is_a_validation_error(
    api: Api, path: str, cursor: str
) -> None:
    answer = await call(api, "GET", f"{path}?cursor={cursor}")
    assert (answer.status, answer.error["code"]) == (422, "validation_error"), answer.body
    assert answer.error["details"][0]["field"] == "cursor"


async def test_a_version_past_bigint_is_refused(api: Api) -> None:
    created = await call(
        api,
        "POST",
        "/v1/invoices",
        {"customer_name": "Ada", "items": [{"description": "x", "unit_price": 1}]},
    )
    path = f"/v1/invoices/{created.data['id']}"

    read = await call(api, "GET", f"{path}?version={2**63}")
    patched = await call(api, "PATCH", path, {"note": "n"}, If_Match=f'"{2**63}"')

    assert (read.status, read.error["details"][0]["field"]) == (422, "version"), read.body
    assert (patched.status, patched.error["details"][0]["field"]) == (422, "If-Match")


@pytest.mark.parametrize("paid_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_a_payment_time_off_the_calendar_in_utc_is_refused(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, paid_at: str
) -> None:
    created = await call(
        api,
        "POST",
        "/v1/invoices",
        {"customer_name": "Ada", "items": [{"description": "x", "unit_price": 100}]},
    )
    before = await event_count(pool, account.account_id)

    answer = await call(
        api, "POST", f"/v1/invoices/{created.data['id']}/mark-paid", {"paid_at": paid_at}
    )

    assert (answer.status, answer.error["details"][0]["field"]) == (422, "paid_at"), answer.body
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize(
    "query", ["created_gte=0001-01-01T00:00:00%2B14:00", "created_lte=9999-12-31T23:59:59-14:00"]
)
async def test_a_list_filter_at_the_ends_of_the_calendar_is_no_error(api: Api, query: str) -> None:
    answer = await call(api, "GET", f"/v1/invoices?{query}")
    assert answer.status == 200, answer.body


async def test_an_integer_past_64_bits_in_metadata_is_answered_and_listed_as_sent(
    api: Api, projector: None
) -> None:
    huge = 2**70
    raw = f'{{"customer_name": "Ada", "items": [{ITEM}], "metadata": {{"k": {huge}}}}}'
    status, body = await _post_raw(api, "/v1/invoices", raw)
    assert status == 201, body
    assert body["data"]["metadata"] == {"k": huge}

    async def listed() -> list[dict[str, Any]] | None:
        page = await call(api, "GET", "/v1/invoices")
        return [i for i in page.data if i["id"] == body["data"]["id"]] or None

    [invoice] = await wait_until(listed)
    assert invoice["metadata"] == {"k": huge}
