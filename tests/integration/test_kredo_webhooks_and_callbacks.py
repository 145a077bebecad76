"""Deliveries the seed APIs' integrations expect (DESIGN.md §11, docs/webhooks.md): Kredo's
`invoice.paid` body for a Kredo-format endpoint, an invoice's `callback_url` called once paid
(Paycashless' `callbackUrl`), and the hosted page sending the customer to its `return_url`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api, Receiver, wait_until
from .http_calls import call, event_count

pytestmark = pytest.mark.asyncio

EXAMPLES = Path(__file__).parents[2] / ".." / "shared" / "seeds" / "examples"
KREDO_PAID = json.loads((EXAMPLES / "kredo-webhook-invoice-paid.json").read_bytes())


async def _kredo_endpoint(api: Api, receiver: Receiver) -> dict[str, Any]:
    answer = await call(
        api,
        "POST",
        "/v1/webhook-endpoints",
        {"url": receiver.url, "events": ["invoice.paid"], "payload_format": "kredo"},
    )
    assert answer.status == 201, answer.body
    endpoint: dict[str, Any] = answer.data
    return endpoint


def _shape(value: Any) -> Any:
    """A body's keys, nested, with each leaf's JSON kind: what an integration parses."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return "number" if isinstance(value, int | float) else type(value).__name__


async def _received(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count


# Kredo-format endpoints ----------------------------------------------------------------------


async def test_a_kredo_endpoint_receives_kredos_invoice_paid_body_signed_by_standard_webhooks(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    endpoint = await _kredo_endpoint(api, receiver)
    created = await call(
        api,
        "POST",
        "/v1/invoices",
        {**KREDO_INVOICE, "items": [{"description": "Migration", "qty": 1, "price": 25000050}]},
    )
    invoice = created.data
    await call(
        api,
        "POST",
        f"/v1/invoices/{invoice['id']}/payments",
        {"amount": 25000050, "method": "bank_transfer", "paid_at": "2026-04-15T14:30:00.123+01:00"},
    )

    await wait_until(lambda: _received(receiver, 1))
    headers, body = receiver.received[0]
    verified = Webhook(endpoint["secret"]).verify(body, headers)

    assert endpoint["payload_format"] == "kredo"
    assert _shape(verified) == _shape(KREDO_PAID)
    assert verified == {
        "event": "invoice.paid",
        "environment": "test",
        "data": {
            "document_id": urlsplit(invoice["view_url"]).path.rsplit("/", 1)[1],
            "amount_paid": 250000.5,
            "payment_method": "bank_transfer",
            "paid_at": "2026-04-15T13:30:00Z",
        },
    }
    assert b'"amount_paid":250000.5,' in body  # the Decimal's digits, exactly
    assert headers["webhook-id"].startswith("evt_")


async def test_a_whole_amount_reaches_a_kredo_endpoint_as_a_json_integer(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    await _kredo_endpoint(api, receiver)
    created = await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    await call(api, "POST", f"/v1/invoices/{created.data['id']}/mark-paid", {})

    await wait_until(lambda: _received(receiver, 1))

    assert b'"amount_paid":2500,' in receiver.received[0][1]


async def test_a_kredo_endpoint_subscribes_to_invoice_paid_alone(
    api: Api, receiver: Receiver, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    before = await event_count(pool, account.account_id)
    refused = await call(
        api,
        "POST",
        "/v1/webhook-endpoints",
        {"url": receiver.url, "events": ["invoice.created"], "payload_format": "kredo"},
    )
    everything = await call(
        api,
        "POST",
        "/v1/webhook-endpoints",
        {"url": receiver.url, "events": ["*"], "payload_format": "kredo"},
    )

    assert refused.status == everything.status == 422
    assert refused.error["details"][0]["field"] == "events"
    assert "invoice.created" in refused.error["message"]
    assert await event_count(pool, account.account_id) == before


async def test_an_endpoint_turned_to_kredo_format_keeps_only_events_kredo_has(
    api: Api, receiver: Receiver
) -> None:
    created = await call(
        api, "POST", "/v1/webhook-endpoints", {"url": receiver.url, "events": ["invoice.created"]}
    )
    path = f"/v1/webhook-endpoints/{created.data['id']}"

    refused = await call(api, "PATCH", path, {"payload_format": "kredo"})
    turned = await call(api, "PATCH", path, {"payload_format": "kredo", "events": ["invoice.paid"]})

    assert created.data["payload_format"] == "risiti"
    assert refused.status == 422 and refused.error["details"][0]["field"] == "events"
    assert turned.status == 200, turned.body
    assert turned.data["payload_format"] == "kredo"


async def test_an_unknown_payload_format_is_refused_by_name(api: Api, receiver: Receiver) -> None:
    answer = await call(
        api,
        "POST",
        "/v1/webhook-endpoints",
        {"url": receiver.url, "events": ["invoice.paid"], "payload_format": "stripe"},
    )

    assert answer.status == 422
    assert answer.error["details"][0]["field"] == "payload_format"


# An invoice's callback_url ---------------------------------------------------------------------


async def _callback_secret(api: Api) -> str:
    answer = await call(api, "GET", "/v1/account")
    secret: str = answer.data["callback_signing_secret"]
    assert secret.startswith("whsec_")
    return secret


async def test_callback_url_is_called_once_with_the_signed_invoice_paid_payload(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    secret = await _callback_secret(api)
    created = await call(
        api,
        "POST",
        "/v1/invoices",
        {**KREDO_INVOICE, "callbackUrl": receiver.url, "acceptPartialPayments": True},
    )
    invoice = created.data
    await call(api, "POST", f"/v1/invoices/{invoice['id']}/payments", {"amount": 100000})
    await call(api, "POST", f"/v1/invoices/{invoice['id']}/payments", {"amount": 150000})

    await wait_until(lambda: _received(receiver, 1))
    await asyncio.sleep(0.5)
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)
    log = await call(api, "GET", f"/v1/invoices/{invoice['id']}/callbacks")

    assert created.status == 201, created.body
    assert invoice["callback_url"] == receiver.url
    assert len(receiver.received) == 1
    assert payload["event"] == "invoice.paid"
    assert payload["data"]["id"] == invoice["id"] and payload["data"]["amount_due"] == 0
    assert [(d["event_type"], d["status"]) for d in log.data] == [("invoice.paid", "succeeded")]
    assert log.data[0]["event_id"] == headers["webhook-id"] == payload["id"]
    assert log.data[0]["attempts"][0]["status_code"] == 200


async def test_a_failed_callback_is_retried_with_the_same_webhook_id(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    receiver.statuses = [500]
    created = await call(
        api, "POST", "/v1/invoices", {**KREDO_INVOICE, "callback_url": receiver.url}
    )
    invoice_id = created.data["id"]
    await call(api, "POST", f"/v1/invoices/{invoice_id}/mark-paid", {})

    await wait_until(lambda: _received(receiver, 2), timeout=30)

    async def settled() -> Any:
        log = await call(api, "GET", f"/v1/invoices/{invoice_id}/callbacks")
        return log.data if log.data and log.data[0]["status"] == "succeeded" else None

    delivery = (await wait_until(settled))[0]
    assert {headers["webhook-id"] for headers, _ in receiver.received} == {delivery["event_id"]}
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]


async def test_a_live_callback_url_at_a_private_address_is_refused_and_nothing_is_recorded(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    live = Api(api.http, account.live_key)
    before = await event_count(pool, account.account_id)
    answer = await call(
        live, "POST", "/v1/invoices", {**KREDO_INVOICE, "callbackUrl": "https://10.0.0.5/paid"}
    )

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "callback_url"
    assert "public addresses only" in answer.error["message"]
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest", "ftp://example.com/paid"])
async def test_a_callback_url_that_is_no_receiver_is_refused(api: Api, url: str) -> None:
    answer = await call(api, "POST", "/v1/invoices", {**KREDO_INVOICE, "callback_url": url})

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "callback_url"


async def test_the_callback_secret_is_one_per_mode_and_stays_the_same(
    api: Api, account: OpenedAccount
) -> None:
    live = Api(api.http, account.live_key)

    first, again, live_secret = (
        await _callback_secret(api),
        await _callback_secret(api),
        await _callback_secret(live),
    )

    assert first == again != live_secret


# The hosted page's return_url ------------------------------------------------------------------


async def test_paying_on_the_hosted_page_sends_the_customer_to_the_return_url(api: Api) -> None:
    created = await call(
        api, "POST", "/v1/invoices", {**KREDO_INVOICE, "returnUrl": "https://shop.test/thanks"}
    )
    invoice = created.data
    page = urlsplit(invoice["view_url"]).path
    shown = await api.http.get(page)

    paid = await api.http.post(
        page + "/pay", data={"version": str(invoice["version"])}, allow_redirects=False
    )

    assert invoice["return_url"] == "https://shop.test/thanks"
    assert "form-action 'self' https://shop.test " in shown.headers["Content-Security-Policy"]
    assert paid.status == 303
    assert paid.headers["Location"] == "https://shop.test/thanks"


async def test_a_stale_pay_form_pays_nothing_and_stays_on_the_page(api: Api) -> None:
    created = await call(
        api, "POST", "/v1/invoices", {**KREDO_INVOICE, "return_url": "https://shop.test/thanks"}
    )
    invoice = created.data
    page = urlsplit(invoice["view_url"]).path
    stale = await api.http.post(
        page + "/pay", data={"version": str(invoice["version"] + 1)}, allow_redirects=False
    )
    after = await call(api, "GET", f"/v1/invoices/{invoice['id']}")

    assert stale.status == 303
    assert stale.headers["Location"] == page
    assert after.data["status"] == "open"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://", "shop.test/thanks"])
async def test_a_return_url_that_is_no_web_page_is_refused(api: Api, url: str) -> None:
    answer = await call(api, "POST", "/v1/invoices", {**KREDO_INVOICE, "return_url": url})

    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "return_url"
