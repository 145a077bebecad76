"""Idempotency-Key, ETag and If-Match, and gap-free numbers, under concurrent requests over real
HTTP (DESIGN.md §4, §6)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import Counter
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api
from .http_calls import Answer, call, event_count

pytestmark = pytest.mark.asyncio

DRAFT = {**KREDO_INVOICE, "status": "draft"}


def _key() -> str:
    return f"key-{secrets.token_hex(8)}"


async def _invoice_ids(pool: asyncpg.Pool, account: OpenedAccount) -> set[str]:
    """The invoices the account has in the log (read from the log, not a projection)."""
    rows = await pool.fetch(
        "SELECT DISTINCT originator_id FROM events WHERE account_id = $1 AND topic LIKE $2",
        account.account_id,
        "%Invoice.Created",
    )
    return {str(row["originator_id"]) for row in rows}


async def _created(api: Api, body: dict[str, Any]) -> Answer:
    answer = await call(api, "POST", "/v1/invoices", body)
    assert answer.status == 201, answer.body
    return answer


# --- Idempotency-Key -----------------------------------------------------------------------


async def test_same_key_and_body_replays_the_first_response_and_appends_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    key = _key()
    first = await call(api, "POST", "/v1/invoices", KREDO_INVOICE, Idempotency_Key=key)
    assert first.status == 201, first.body
    after_first = await event_count(pool, account.account_id)

    again = await call(api, "POST", "/v1/invoices", KREDO_INVOICE, Idempotency_Key=key)

    assert again.status == 201
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert "Idempotent-Replayed" not in first.headers
    assert await event_count(pool, account.account_id) == after_first
    assert await _invoice_ids(pool, account) == {first.data["id"]}


async def test_same_key_on_a_payment_replays_it_instead_of_paying_twice(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await _created(api, {**KREDO_INVOICE, "accept_partial_payments": True})
    path = f"/v1/invoices/{invoice.data['id']}/payments"
    key = _key()
    first = await call(api, "POST", path, {"amount": 1000}, Idempotency_Key=key)
    assert first.status == 201, first.body
    after_first = await event_count(pool, account.account_id)

    again = await call(api, "POST", path, {"amount": 1000}, Idempotency_Key=key)

    assert (again.status, again.body) == (201, first.body)
    assert await event_count(pool, account.account_id) == after_first
    read = await call(api, "GET", f"/v1/invoices/{invoice.data['id']}")
    assert read.data["amount_paid"] == 1000


async def test_same_key_with_another_body_is_refused_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    key = _key()
    first = await call(api, "POST", "/v1/invoices", KREDO_INVOICE, Idempotency_Key=key)
    assert first.status == 201, first.body
    before = await event_count(pool, account.account_id)

    other = await call(
        api, "POST", "/v1/invoices", {**KREDO_INVOICE, "customer_name": "X"}, Idempotency_Key=key
    )

    assert other.status == 422, other.body
    assert other.error["code"] == "idempotency_key_reused"
    assert await event_count(pool, account.account_id) == before


async def test_a_refused_request_does_not_use_up_its_key(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    key = _key()
    before = await event_count(pool, account.account_id)
    bad = await call(
        api, "POST", "/v1/invoices", {**KREDO_INVOICE, "items": []}, Idempotency_Key=key
    )
    assert bad.status == 422, bad.body
    assert await event_count(pool, account.account_id) == before

    good = await call(api, "POST", "/v1/invoices", KREDO_INVOICE, Idempotency_Key=key)

    assert good.status == 201, good.body


async def test_fifty_concurrent_creates_with_one_key_create_exactly_one_invoice(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    key = _key()

    answers = await asyncio.gather(
        *(call(api, "POST", "/v1/invoices", KREDO_INVOICE, Idempotency_Key=key) for _ in range(50))
    )

    assert [a.status for a in answers] == [201] * 50, [a.body for a in answers if a.status != 201]
    ids = {a.data["id"] for a in answers}
    assert len(ids) == 1
    assert await _invoice_ids(pool, account) == ids
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 49
    assert answers[0].data["document_number"].endswith("-0001")


# --- ETag and If-Match ---------------------------------------------------------------------


async def test_etag_is_the_quoted_version_on_every_invoice_response(api: Api) -> None:
    created = await _created(api, DRAFT)
    read = await call(api, "GET", f"/v1/invoices/{created.data['id']}")
    finalized = await call(api, "POST", f"/v1/invoices/{created.data['id']}/finalize")

    for answer in (created, read, finalized):
        assert answer.headers["ETag"] == f'"{answer.data["version"]}"'
    assert finalized.data["version"] == created.data["version"] + 1


async def test_twenty_concurrent_patches_with_one_if_match_let_exactly_one_win(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    created = await _created(api, DRAFT)
    etag = created.headers["ETag"]
    path = f"/v1/invoices/{created.data['id']}"
    before = await event_count(pool, account.account_id)

    answers = await asyncio.gather(
        *(call(api, "PATCH", path, {"note": f"note {n}"}, If_Match=etag) for n in range(20))
    )

    assert Counter(a.status for a in answers) == {200: 1, 412: 19}
    assert {a.error["code"] for a in answers if a.status == 412} == {"version_conflict"}
    assert await event_count(pool, account.account_id) == before + 1
    (winner,) = (a for a in answers if a.status == 200)
    read = await call(api, "GET", path)
    assert read.data["note"] == winner.data["note"]
    assert read.headers["ETag"] == f'"{created.data["version"] + 1}"'


@pytest.mark.parametrize(
    ("action", "body"),
    [("finalize", {}), ("payments", {"amount": 250000}), ("void", {}), ("mark-paid", {})],
)
async def test_a_stale_if_match_on_a_command_is_412_and_changes_nothing(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount, action: str, body: dict[str, Any]
) -> None:
    created = await _created(api, DRAFT if action == "finalize" else KREDO_INVOICE)
    stale = created.headers["ETag"]
    path = f"/v1/invoices/{created.data['id']}"
    touched = await call(api, "PATCH", path, {"note": "changed"}, If_Match=stale)
    assert touched.status == 200, touched.body
    before = await event_count(pool, account.account_id)

    answer = await call(api, "POST", f"{path}/{action}", body, If_Match=stale)

    assert answer.status == 412, answer.body
    assert answer.error["code"] == "version_conflict"
    assert answer.error["details"] == [
        {"expected": created.data["version"], "current": touched.data["version"]}
    ]
    assert await event_count(pool, account.account_id) == before
    fresh = await call(api, "POST", f"{path}/{action}", body, If_Match=touched.headers["ETag"])
    assert fresh.status in (200, 201), fresh.body


async def test_an_if_match_that_is_not_an_etag_is_refused(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    created = await _created(api, DRAFT)
    before = await event_count(pool, account.account_id)

    answer = await call(
        api, "PATCH", f"/v1/invoices/{created.data['id']}", {"note": "x"}, If_Match='"v1"'
    )

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "If-Match"
    assert await event_count(pool, account.account_id) == before


async def test_ten_concurrent_patches_without_if_match_all_succeed_on_fresh_state(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    created = await _created(api, KREDO_INVOICE)
    path = f"/v1/invoices/{created.data['id']}"
    before = await event_count(pool, account.account_id)

    answers = await asyncio.gather(
        *(call(api, "PATCH", path, {"note": f"note {n}"}) for n in range(10))
    )

    assert [a.status for a in answers] == [200] * 10, [a.body for a in answers]
    versions = sorted(a.data["version"] for a in answers)
    first = created.data["version"] + 1
    assert versions == list(range(first, first + 10))
    assert await event_count(pool, account.account_id) == before + 10


# --- numbers -------------------------------------------------------------------------------


async def test_fifty_concurrent_finalizations_take_numbers_one_to_fifty(api: Api) -> None:
    drafts = await asyncio.gather(*(_created(api, DRAFT) for _ in range(50)))

    answers = await asyncio.gather(
        *(call(api, "POST", f"/v1/invoices/{d.data['id']}/finalize") for d in drafts)
    )

    assert [a.status for a in answers] == [200] * 50, [a.body for a in answers if a.status != 200]
    numbers = sorted(a.data["document_number"] for a in answers)
    year = numbers[0].split("-")[1]
    assert numbers == [f"INV-{year}-{n:04d}" for n in range(1, 51)]


async def test_a_number_lost_to_a_refused_finalization_is_not_skipped(api: Api) -> None:
    draft = await _created(api, DRAFT)
    path = f"/v1/invoices/{draft.data['id']}/finalize"

    answers = await asyncio.gather(*(call(api, "POST", path) for _ in range(5)))
    after = await _created(api, KREDO_INVOICE)

    assert Counter(a.status for a in answers) == {200: 1, 409: 4}
    (won,) = (a for a in answers if a.status == 200)
    assert re.fullmatch(r"INV-\d{4}-0001", won.data["document_number"])
    assert after.data["document_number"].endswith("-0002")
