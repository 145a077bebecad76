"""Accounts that require signed requests, Paycashless-style (DESIGN.md §6): `Request-Timestamp`
in unix seconds and `Request-Signature`, the hex HMAC-SHA512 keyed with the API key over
`timestamp + "." + raw body`. Each test has an account of its own, so no other test is signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api
from .http_calls import Answer, call, event_count

pytestmark = pytest.mark.asyncio


def signature(key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha512).hexdigest()


async def signed(
    api: Api,
    method: str,
    path: str,
    body: Any = None,
    *,
    timestamp: int | None = None,
    sign: str | None = None,
) -> Answer:
    """A request signed over its exact bytes, or with the given (wrong) signature."""
    raw = json.dumps(body).encode() if body is not None else b""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Authorization": f"Bearer {api.key}",
        "Content-Type": "application/json",
        "Request-Timestamp": stamp,
        "Request-Signature": sign if sign is not None else signature(api.key, stamp, raw),
    }
    response = await api.http.request(method, path, data=raw or None, headers=headers)
    return Answer(response.status, await response.json(), response.headers)


@pytest.fixture
async def signing_api(api: Api) -> Api:
    """The API of an account that has just turned on signed requests."""
    answer = await call(api, "PATCH", "/v1/account", {"require_signed_requests": True})
    assert answer.status == 200, answer.body
    assert answer.data["require_signed_requests"] is True
    return api


async def test_unsigned_requests_are_refused_with_signature_required(
    signing_api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    before = await event_count(pool, account.account_id)

    created = await call(signing_api, "POST", "/v1/invoices", KREDO_INVOICE)
    listed = await call(signing_api, "GET", "/v1/customers")

    for answer in (created, listed):
        assert answer.status == 401, answer.body
        assert answer.error["code"] == "signature_required"
    assert await event_count(pool, account.account_id) == before


async def test_a_correctly_signed_request_is_served(signing_api: Api) -> None:
    created = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE)

    assert created.status == 201, created.body
    assert created.data["total"] == 250000
    read = await signed(signing_api, "GET", f"/v1/invoices/{created.data['id']}")
    assert (read.status, read.data["id"]) == (200, created.data["id"])


async def test_the_signature_covers_the_raw_bytes_sent(signing_api: Api) -> None:
    raw = b'{\n  "type": "invoice",  "customer_name": "AfriTech Solutions",\n'
    raw += b'  "items": [{"description": "Setup", "qty": 1, "price": 1000}]}'
    stamp = str(int(time.time()))
    headers = {
        "Authorization": f"Bearer {signing_api.key}",
        "Request-Timestamp": stamp,
        "Request-Signature": signature(signing_api.key, stamp, raw),
    }

    response = await signing_api.http.post("/v1/invoices", data=raw, headers=headers)

    assert response.status == 201, await response.text()


@pytest.mark.parametrize(
    "tampering",
    ["wrong signature", "signed with another key", "other body", "ten minutes old", "in future"],
)
async def test_a_bad_or_stale_signature_is_refused_with_invalid_signature(
    signing_api: Api, pool: asyncpg.Pool, account: OpenedAccount, tampering: str
) -> None:
    now = int(time.time())
    raw = json.dumps(KREDO_INVOICE).encode()
    cases: dict[str, dict[str, Any]] = {
        "wrong signature": {"sign": "ab" * 64},
        "signed with another key": {"sign": signature(account.live_key, str(now), raw)},
        "other body": {"sign": signature(signing_api.key, str(now), b"{}")},
        "ten minutes old": {"timestamp": now - 600},
        "in future": {"timestamp": now + 600},
    }
    before = await event_count(pool, account.account_id)

    answer = await signed(signing_api, "POST", "/v1/invoices", KREDO_INVOICE, **cases[tampering])

    assert answer.status == 401, answer.body
    assert answer.error["code"] == "invalid_signature"
    assert await event_count(pool, account.account_id) == before


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
