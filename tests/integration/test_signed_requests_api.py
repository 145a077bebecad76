"""Accounts that require signed requests (DESIGN.md §6, docs/api.md "Signed requests"):
`Request-Timestamp` in unix seconds and `Request-Signature`, the hex HMAC-SHA512 keyed with the
API key over `timestamp.METHOD.path_with_query.body`, each signature accepted once within its
window. Each test has an account of its own, so no other test is signed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from risiti.api.app import create_app
from risiti.commands.accounts import OpenedAccount
from risiti.config import Settings
from risiti.workers.housekeeping import forget_used_request_signatures

from .conftest import KREDO_INVOICE, Api
from .http_calls import Answer, call, event_count

pytestmark = pytest.mark.asyncio

NATIVE_FORM = "timestamp.METHOD.path_with_query.body"


def signature(key: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The native form, computed here from its definition rather than by the server's code."""
    to_sign = f"{timestamp}.{method}.{path}.".encode() + body
    return hmac.new(key.encode(), to_sign, hashlib.sha512).hexdigest()


def version_1_signature(key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha512).hexdigest()


def raw_json(body: Any) -> bytes:
    return json.dumps(body).encode() if body is not None else b""


def signed_headers(
    key: str, method: str, path: str, raw: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Request-Timestamp": stamp,
        "Request-Signature": signature(key, stamp, method, path, raw),
    }


async def send(api: Api, method: str, path: str, raw: bytes, headers: dict[str, str]) -> Answer:
    """Exactly these bytes, with exactly these headers (a signature made for another request,
    or a captured one sent again)."""
    response = await api.http.request(method, path, data=raw or None, headers=headers)
    return Answer(response.status, await response.json(), response.headers)


async def signed(
    api: Api,
    method: str,
    path: str,
    body: Any = None,
    *,
    timestamp: int | None = None,
    sign: str | None = None,
    **extra: str,
) -> Answer:
    """A request signed over its exact bytes, or with the given (wrong) signature."""
    raw = raw_json(body)
    headers = signed_headers(api.key, method, path, raw, timestamp=timestamp)
    if sign is not None:
        headers["Request-Signature"] = sign
    return await send(api, method, path, raw, headers | extra)


async def invoices_created(pool: asyncpg.Pool, account_id: UUID) -> int:
    """How many invoices the account has created, read from the log itself."""
    count: int = await pool.fetchval(
        "SELECT count(*) FROM events WHERE account_id = $1"
        " AND topic = 'risiti.domain.invoice:Invoice.Created'",
        account_id,
    )
    return count


def assert_refused(answer: Answer, code: str, *message_parts: str) -> None:
    """A 401 in the error envelope, with the code and a message that says what to do."""
    assert answer.status == 401, answer.body
    assert answer.body["success"] is False
    assert answer.error["code"] == code
    assert answer.error["request_id"].startswith("req_")
    for part in message_parts:
        assert part in answer.error["message"]


@pytest.fixture
async def signing_api(api: Api) -> Api:
    """The API of an account that has just turned on signed requests."""
    answer = await call(api, "PATCH", "/v1/account", {"require_signed_requests": True})
    assert answer.status == 200, answer.body
    assert answer.data["require_signed_requests"] is True
    return api


@pytest.fixture
async def another_api_process(settings: Settings, signing_api: Api) -> AsyncIterator[Api]:
    """A second api process over the same database, with nothing in memory of the first."""
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield Api(client, signing_api.key)
    await client.close()


async def test_unsigned_requests_are_refused_with_signature_required(
    signing_api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    before = await event_count(pool, account.account_id)

    created = await call(signing_api, "POST", "/v1/invoices", KREDO_INVOICE)
    listed = await call(signing_api, "GET", "/v1/customers")

    for answer in (created, listed):
        assert_refused(answer, "signature_required", "Request-Timestamp", "Request-Signature")
    assert await event_count(pool, account.account_id) == before


async def test_a_correctly_signed_post_and_get_are_served(signing_api: Api) -> None:
    created = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE)

    assert created.status == 201, created.body
    assert created.data["total"] == 250000
    read = await signed(signing_api, "GET", f"/v1/invoices/{created.data['id']}")
    assert (read.status, read.data["id"]) == (200, created.data["id"])


async def test_a_signed_get_with_a_query_string_signs_the_query_as_sent(
    signing_api: Api,
) -> None:
    listed = await signed(signing_api, "GET", "/v1/invoices?limit=5&status=open")

    assert listed.status == 200, listed.body
    assert listed.body["has_more"] is False


async def test_a_signed_post_with_a_query_string_is_served(signing_api: Api) -> None:
    created = await signed(signing_api, "POST", "/v1/invoices?source=erp", KREDO_INVOICE)

    assert created.status == 201, created.body


async def test_the_signature_covers_the_raw_bytes_sent(signing_api: Api) -> None:
    raw = b'{\n  "type": "invoice",  "customer_name": "AfriTech Solutions",\n'
    raw += b'  "items": [{"description": "Setup", "qty": 1, "price": 1000}]}'
    headers = signed_headers(signing_api.key, "POST", "/v1/invoices", raw)

    created = await send(signing_api, "POST", "/v1/invoices", raw, headers)

    assert created.status == 201, created.body


@pytest.mark.parametrize(
    "tampering",
    [
        "wrong signature",
        "not ASCII",
        "signed with another key",
        "other body",
        "upper-case path",
        "lower-case method",
    ],
)
async def test_a_signature_that_does_not_match_is_refused_with_invalid_signature(
    signing_api: Api, pool: asyncpg.Pool, account: OpenedAccount, tampering: str
) -> None:
    now = str(int(time.time()))
    raw = raw_json(KREDO_INVOICE)
    cases: dict[str, str] = {
        "wrong signature": "ab" * 64,
        "not ASCII": "\u00e9" * 128,
        "signed with another key": signature(account.live_key, now, "POST", "/v1/invoices", raw),
        "other body": signature(signing_api.key, now, "POST", "/v1/invoices", b"{}"),
        "upper-case path": signature(signing_api.key, now, "POST", "/V1/INVOICES", raw),
        "lower-case method": signature(signing_api.key, now, "post", "/v1/invoices", raw),
    }
    before = await event_count(pool, account.account_id)

    answer = await signed(
        signing_api,
        "POST",
        "/v1/invoices",
        KREDO_INVOICE,
        timestamp=int(now),
        sign=cases[tampering],
    )

    assert_refused(answer, "invalid_signature", "does not match", NATIVE_FORM)
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-600, False), (-302, False), (-290, True), (290, True), (302, False), (600, False)],
)
async def test_a_timestamp_is_accepted_within_300_seconds_of_our_clock_either_way(
    signing_api: Api, pool: asyncpg.Pool, account: OpenedAccount, offset: int, accepted: bool
) -> None:
    before = await event_count(pool, account.account_id)

    answer = await signed(
        signing_api, "POST", "/v1/invoices", KREDO_INVOICE, timestamp=int(time.time()) + offset
    )

    if accepted:
        assert answer.status == 201, answer.body
    else:
        assert_refused(answer, "invalid_signature", "Request-Timestamp", "within 300 s")
        assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize("form", ["an ISO date", "five thousand digits"])
async def test_a_timestamp_that_is_not_unix_seconds_is_refused(signing_api: Api, form: str) -> None:
    forms = {
        "an ISO date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "five thousand digits": "9" * 5000,
    }
    stamp = forms[form]
    raw = raw_json(KREDO_INVOICE)
    headers = signed_headers(signing_api.key, "POST", "/v1/invoices", raw)
    headers["Request-Timestamp"] = stamp
    headers["Request-Signature"] = signature(signing_api.key, stamp, "POST", "/v1/invoices", raw)

    answer = await send(signing_api, "POST", "/v1/invoices", raw, headers)

    assert_refused(answer, "invalid_signature", "unix seconds")


async def test_a_version_1_signature_over_timestamp_and_body_is_refused_naming_the_form(
    signing_api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    now = int(time.time())
    old_form = version_1_signature(signing_api.key, str(now), raw_json(KREDO_INVOICE))
    before = await event_count(pool, account.account_id)

    answer = await signed(
        signing_api, "POST", "/v1/invoices", KREDO_INVOICE, timestamp=now, sign=old_form
    )

    assert_refused(answer, "invalid_signature", "`timestamp.body`", NATIVE_FORM)
    assert await event_count(pool, account.account_id) == before


async def test_a_replayed_signed_request_is_refused_and_creates_nothing(
    signing_api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    raw = raw_json(KREDO_INVOICE)
    headers = signed_headers(signing_api.key, "POST", "/v1/invoices", raw)
    first = await send(signing_api, "POST", "/v1/invoices", raw, headers)
    assert first.status == 201, first.body
    after_first = await event_count(pool, account.account_id)

    replayed = await send(signing_api, "POST", "/v1/invoices", raw, headers)
    in_upper_case = headers | {"Request-Signature": headers["Request-Signature"].upper()}
    replayed_again = await send(signing_api, "POST", "/v1/invoices", raw, in_upper_case)

    for answer in (replayed, replayed_again):
        assert_refused(answer, "signature_replayed", "already used", "Idempotency-Key")
    assert await event_count(pool, account.account_id) == after_first
    assert await invoices_created(pool, account.account_id) == 1


async def test_a_signature_used_on_one_api_process_is_refused_by_another(
    signing_api: Api, another_api_process: Api
) -> None:
    raw = raw_json(KREDO_INVOICE)
    headers = signed_headers(signing_api.key, "POST", "/v1/invoices", raw)
    first = await send(signing_api, "POST", "/v1/invoices", raw, headers)
    assert first.status == 201, first.body

    elsewhere = await send(another_api_process, "POST", "/v1/invoices", raw, headers)

    assert_refused(elsewhere, "signature_replayed")


async def test_concurrent_replays_of_one_signature_are_served_once(
    signing_api: Api, another_api_process: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    raw = raw_json(KREDO_INVOICE)
    headers = signed_headers(signing_api.key, "POST", "/v1/invoices", raw)

    answers = await asyncio.gather(
        *(
            send(api, "POST", "/v1/invoices", raw, headers)
            for api in (signing_api, another_api_process) * 3
        )
    )

    assert sorted(answer.status for answer in answers) == [201, 401, 401, 401, 401, 401]
    assert await invoices_created(pool, account.account_id) == 1


@pytest.mark.parametrize("moved_to", ["another path", "another method", "another query"])
async def test_a_signature_moved_to_another_request_is_refused(
    signing_api: Api, moved_to: str
) -> None:
    created = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE)
    other = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE | {"note": "other"})
    one, another = created.data["id"], other.data["id"]
    stamp = int(time.time())
    captured = {
        "another path": ("GET", f"/v1/invoices/{one}", "GET", f"/v1/invoices/{another}"),
        "another method": ("GET", f"/v1/invoices/{one}", "DELETE", f"/v1/invoices/{one}"),
        "another query": ("GET", "/v1/invoices?limit=5", "GET", "/v1/invoices?limit=100"),
    }
    signed_method, signed_path, method, path = captured[moved_to]
    headers = signed_headers(signing_api.key, signed_method, signed_path, b"", timestamp=stamp)

    moved = await send(signing_api, method, path, b"", headers)

    assert_refused(moved, "invalid_signature", "does not match")


async def test_a_signed_gets_headers_cannot_void_another_invoice(signing_api: Api) -> None:
    created = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE)
    other = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE | {"note": "other"})
    read_path = f"/v1/invoices/{created.data['id']}"
    void_path = f"/v1/invoices/{other.data['id']}/void"
    headers = signed_headers(signing_api.key, "GET", read_path, b"")
    assert (await send(signing_api, "GET", read_path, b"", headers)).status == 200

    voided = await send(signing_api, "POST", void_path, b"", headers)

    assert_refused(voided, "invalid_signature")
    read = await signed(signing_api, "GET", f"/v1/invoices/{other.data['id']}")
    assert read.data["status"] == "open"


async def test_a_request_that_fails_has_used_its_signature_and_a_resigned_retry_runs(
    signing_api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invalid = KREDO_INVOICE | {"items": []}
    raw = raw_json(invalid)
    headers = signed_headers(signing_api.key, "POST", "/v1/invoices", raw)
    failed = await send(signing_api, "POST", "/v1/invoices", raw, headers)
    assert failed.status == 422, failed.body

    again = await send(signing_api, "POST", "/v1/invoices", raw, headers)
    fixed = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE)

    assert_refused(again, "signature_replayed")
    assert fixed.status == 201, fixed.body


async def test_an_idempotent_retry_signed_afresh_answers_the_first_response(
    signing_api: Api,
) -> None:
    now = int(time.time())
    key = {"Idempotency-Key": f"order-{secrets.token_hex(4)}"}

    first = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE, timestamp=now, **key)
    retried = await signed(
        signing_api, "POST", "/v1/invoices", KREDO_INVOICE, timestamp=now + 1, **key
    )

    assert first.status == retried.status == 201, retried.body
    assert retried.data["id"] == first.data["id"]
    assert retried.headers["Idempotent-Replayed"] == "true"


async def test_used_signatures_are_forgotten_once_their_window_has_passed(
    pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    old, recent = secrets.token_bytes(32), secrets.token_bytes(32)
    for digest, age in ((old, "16 minutes"), (recent, "11 minutes")):
        await pool.execute(
            "INSERT INTO request_signatures (digest, account_id, seen_at)"
            f" VALUES ($1, $2, now() - interval '{age}')",
            digest,
            account.account_id,
        )

    forgotten = await forget_used_request_signatures({"pool": pool})

    kept = {row["digest"] for row in await pool.fetch("SELECT digest FROM request_signatures")}
    assert forgotten >= 1
    assert old not in kept
    assert recent in kept


async def test_an_account_that_does_not_require_signatures_takes_unsigned_requests(
    api: Api,
) -> None:
    answer = await call(api, "POST", "/v1/invoices", KREDO_INVOICE)

    assert answer.status == 201, answer.body


async def test_signing_can_be_turned_off_again_by_a_signed_request(signing_api: Api) -> None:
    answer = await signed(signing_api, "PATCH", "/v1/account", {"require_signed_requests": False})
    assert answer.status == 200, answer.body

    unsigned = await call(signing_api, "POST", "/v1/invoices", KREDO_INVOICE)

    assert unsigned.status == 201, unsigned.body
