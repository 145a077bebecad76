"""Paystack inbound (docs/api.md, "Paystack"): `POST /v1/integrations/paystack/webhook`, signed
with the account's Paystack secret key as Paystack signs it (`x-paystack-signature`, the hex
HMAC-SHA512 of the raw body), records `charge.success` on the invoice its metadata names, once per
Paystack reference."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api
from .http_calls import Answer, call, event_count

pytestmark = pytest.mark.asyncio

WEBHOOK = "/v1/integrations/paystack/webhook"
TOTAL = 250000  # KREDO_INVOICE's one item, in kobo


def sign(secret_key: str, body: bytes) -> str:
    return hmac.new(secret_key.encode(), body, hashlib.sha512).hexdigest()


async def deliver(api: Api, event: dict[str, Any], signature: str | None) -> Answer:
    """A delivery as Paystack makes it: no API key, the signature over the exact bytes."""
    raw = json.dumps(event).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-paystack-signature"] = signature
    response = await api.http.post(WEBHOOK, data=raw, headers=headers)
    return Answer(response.status, await response.json(), response.headers)


async def signed(api: Api, secret_key: str, event: dict[str, Any]) -> Answer:
    return await deliver(api, event, sign(secret_key, json.dumps(event).encode()))


def charge_success(
    metadata: Any, *, amount: int = TOTAL, reference: str | None = None, currency: str = "NGN"
) -> dict[str, Any]:
    return {
        "event": "charge.success",
        "data": {
            "id": 302961,
            "domain": "test",
            "status": "success",
            "reference": reference or f"T{secrets.token_hex(6)}",
            "amount": amount,
            "currency": currency,
            "paid_at": "2024-03-01T09:15:00.000Z",
            # Paystack spells some fields both ways, and adds fields without notice.
            "paidAt": "2024-03-01T09:15:00.000Z",
            "channel": "card",
            "metadata": metadata,
            "customer": {"email": "billing@afritech.test"},
        },
    }


@pytest.fixture
async def paystack_key(api: Api) -> str:
    """The test mode's Paystack secret key, set on the account."""
    key = f"sk_test_{secrets.token_hex(20)}"
    answer = await call(api, "PATCH", "/v1/account", {"paystack_secret_key": key})
    assert answer.status == 200, answer.body
    assert answer.data["paystack_configured"] is True
    return key


async def new_invoice(api: Api, **changes: Any) -> dict[str, Any]:
    status, created = await api.post("/v1/invoices", {**KREDO_INVOICE, **changes})
    assert status == 201, created
    invoice: dict[str, Any] = created["data"]
    return invoice


async def test_a_signed_charge_success_records_the_payment_and_the_invoice_is_paid(
    api: Api, paystack_key: str
) -> None:
    invoice = await new_invoice(api)
    event = charge_success({"invoice_id": invoice["id"]}, reference="PSK-REF-1")

    answer = await signed(api, paystack_key, event)

    assert answer.status == 200, answer.body
    assert answer.data == {
        "object": "paystack_webhook",
        "event": "charge.success",
        "recorded": True,
        "reason": None,
        "invoice_id": invoice["id"],
        "invoice_status": "paid",
    }
    _, read = await api.get(f"/v1/invoices/{invoice['id']}")
    assert read["data"]["status"] == "paid"
    [payment] = read["data"]["payments"]
    assert payment["amount"] == TOTAL
    assert payment["method"] == "paystack"
    assert payment["reference"] == "PSK-REF-1"
    assert payment["paid_at"].startswith("2024-03-01T09:15:00")


async def test_the_same_reference_twice_records_one_payment(
    api: Api, paystack_key: str, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await new_invoice(api, accept_partial_payments=True)
    event = charge_success({"invoice_id": invoice["id"]}, amount=1000)

    first = await signed(api, paystack_key, event)
    count = await event_count(pool, account.account_id)
    second = await signed(api, paystack_key, event)

    assert (first.status, first.data["recorded"]) == (200, True), first.body
    assert second.status == 200, second.body
    assert (second.data["recorded"], second.data["reason"]) == (False, "already_recorded")
    assert await event_count(pool, account.account_id) == count
    _, read = await api.get(f"/v1/invoices/{invoice['id']}")
    assert [p["amount"] for p in read["data"]["payments"]] == [1000]
    assert read["data"]["status"] == "partially_paid"


async def test_a_wrong_signature_is_refused_and_changes_nothing(
    api: Api, paystack_key: str, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await new_invoice(api)
    event = charge_success({"invoice_id": invoice["id"]})
    before = await event_count(pool, account.account_id)

    wrong_key = await deliver(api, event, sign("sk_test_not_the_key", json.dumps(event).encode()))
    tampered = await deliver(
        api,
        {**event, "data": {**event["data"], "amount": 1}},
        sign(paystack_key, json.dumps(event).encode()),
    )

    for answer in (wrong_key, tampered):
        assert answer.status == 401, answer.body
        assert answer.error["code"] == "invalid_signature"
    assert await event_count(pool, account.account_id) == before
    _, read = await api.get(f"/v1/invoices/{invoice['id']}")
    assert read["data"]["status"] == "open"
    assert read["data"]["payments"] == []


async def test_a_missing_signature_is_refused(
    api: Api, paystack_key: str, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await new_invoice(api)
    before = await event_count(pool, account.account_id)

    answer = await deliver(api, charge_success({"invoice_id": invoice["id"]}), None)

    assert answer.status == 401, answer.body
    assert answer.error["code"] == "signature_required"
    assert await event_count(pool, account.account_id) == before


async def test_an_account_without_a_paystack_key_refuses_every_signature(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await new_invoice(api)
    event = charge_success({"invoice_id": invoice["id"]})
    before = await event_count(pool, account.account_id)

    answer = await signed(api, "sk_test_anything", event)

    assert answer.status == 401, answer.body
    assert answer.error["code"] == "paystack_not_configured"
    assert await event_count(pool, account.account_id) == before


async def test_an_unknown_invoice_is_404(api: Api, paystack_key: str) -> None:
    answer = await signed(api, paystack_key, charge_success({"invoice_id": str(uuid4())}))

    assert answer.status == 404, answer.body
    assert answer.error["code"] == "not_found"


async def test_an_invoice_number_with_its_account_names_the_invoice(
    api: Api, paystack_key: str, account: OpenedAccount
) -> None:
    invoice = await new_invoice(api)
    metadata = {"invoice_number": invoice["document_number"], "account_id": str(account.account_id)}

    answer = await signed(api, paystack_key, charge_success(metadata))

    assert answer.status == 200, answer.body
    assert (answer.data["recorded"], answer.data["invoice_id"]) == (True, invoice["id"])


async def test_an_invoice_number_without_its_account_is_422(api: Api, paystack_key: str) -> None:
    invoice = await new_invoice(api)

    answer = await signed(
        api, paystack_key, charge_success({"invoice_number": invoice["document_number"]})
    )

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "data.metadata.account_id"


async def test_a_partial_charge_is_recorded_as_paid_though_the_invoice_offers_none(
    api: Api, paystack_key: str
) -> None:
    invoice = await new_invoice(api)  # partial payments not offered to the customer

    answer = await signed(
        api, paystack_key, charge_success({"invoice_id": invoice["id"]}, amount=5)
    )

    assert (answer.status, answer.data["recorded"]) == (200, True), answer.body
    read = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    assert (read.data["status"], read.data["amount_due"]) == ("partially_paid", TOTAL - 5)


async def test_a_payment_the_invoice_refuses_is_acknowledged_unrecorded(
    api: Api, paystack_key: str, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await new_invoice(api)
    before = await event_count(pool, account.account_id)

    too_much = await signed(
        api, paystack_key, charge_success({"invoice_id": invoice["id"]}, amount=TOTAL + 1)
    )
    dollars = await signed(
        api, paystack_key, charge_success({"invoice_id": invoice["id"]}, currency="USD")
    )

    assert [(a.status, a.data["recorded"], a.data["reason"]) for a in (too_much, dollars)] == [
        (200, False, "payment_exceeds_balance"),
        (200, False, "currency_mismatch"),
    ]
    assert await event_count(pool, account.account_id) == before


async def test_a_refused_reference_is_not_used_up(api: Api, paystack_key: str) -> None:
    """A refusal rolls its reference back with it: nothing was recorded under it."""
    invoice = await new_invoice(api)
    await call(api, "POST", f"/v1/invoices/{invoice['id']}/void", {})
    refused = await signed(
        api, paystack_key, charge_success({"invoice_id": invoice["id"]}, reference="PSK-VOID")
    )
    other = await new_invoice(api)

    answer = await signed(
        api, paystack_key, charge_success({"invoice_id": other["id"]}, reference="PSK-VOID")
    )

    assert (refused.status, refused.data["reason"]) == (200, "invalid_state"), refused.body
    assert (answer.status, answer.data["recorded"]) == (200, True), answer.body


async def test_other_event_types_are_acknowledged_and_ignored(
    api: Api, paystack_key: str, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await new_invoice(api)
    before = await event_count(pool, account.account_id)
    event = {**charge_success({"invoice_id": invoice["id"]}), "event": "transfer.success"}

    answer = await signed(api, paystack_key, event)

    assert answer.status == 200, answer.body
    assert (answer.data["recorded"], answer.data["reason"]) == (False, "event_ignored")
    assert await event_count(pool, account.account_id) == before


async def test_a_charge_naming_no_invoice_is_acknowledged_and_ignored(
    api: Api, paystack_key: str
) -> None:
    for metadata in ("", {"cart_id": 7}):
        answer = await signed(api, paystack_key, charge_success(metadata))

        assert answer.status == 200, answer.body
        assert (answer.data["recorded"], answer.data["reason"]) == (False, "no_invoice_named")


async def test_the_paystack_key_is_write_only_and_per_mode(
    api: Api, paystack_key: str, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    read = await call(api, "GET", "/v1/account")
    live = await call(
        Api(api.http, account.live_key), "GET", "/v1/account"
    )  # the live mode has its own key, not set
    wrong_mode = await call(
        Api(api.http, account.live_key),
        "PATCH",
        "/v1/account",
        {"paystack_secret_key": "sk_test_x"},
    )
    log = await pool.fetch(
        "SELECT topic, convert_from(state, 'UTF8') AS state FROM events WHERE account_id = $1",
        account.account_id,
    )

    assert read.status == 200
    assert read.data["paystack_configured"] is True
    assert paystack_key not in json.dumps(read.body)
    assert live.data["paystack_configured"] is False
    assert wrong_mode.status == 422, wrong_mode.body
    assert all(paystack_key not in row["state"] for row in log)
    assert any(row["topic"].endswith("Account.PaystackSecretKeySet") for row in log)


async def test_removing_the_key_refuses_later_deliveries(api: Api, paystack_key: str) -> None:
    invoice = await new_invoice(api)
    removed = await call(api, "PATCH", "/v1/account", {"paystack_secret_key": ""})

    answer = await signed(api, paystack_key, charge_success({"invoice_id": invoice["id"]}))

    assert removed.data["paystack_configured"] is False
    assert answer.status == 401, answer.body
    assert answer.error["code"] == "paystack_not_configured"
