"""Every event type of DESIGN.md §7 arrives once per matching endpoint (issue 5): two endpoints
that take everything, one that takes a single type, and one that takes none of these; every
webhook verifies with the `standardwebhooks` package and carries the whole object as `data`."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks.webhooks import Webhook

from risiti.commands.ledger import Ledger
from risiti.commands.overdue import mark_invoice_overdue

from .conftest import KREDO_INVOICE, Api, Receiver, wait_until
from .http_calls import call

pytestmark = pytest.mark.asyncio

INVOICE_TYPES = (
    "invoice.created",
    "invoice.updated",
    "invoice.finalized",
    "invoice.sent",
    "invoice.payment_recorded",
    "invoice.partially_paid",
    "invoice.paid",
    "invoice.overdue",
    "invoice.voided",
    "invoice.deleted",
    "receipt.created",
    "customer.created",
)


async def _receiver_at(path: str) -> tuple[Receiver, TestServer]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post(path, receiver.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    receiver.url = str(server.make_url(path))
    return receiver, server


async def _register(api: Api, url: str, events: list[str]) -> str:
    answer = await call(api, "POST", "/v1/webhook-endpoints", {"url": url, "events": events})
    assert answer.status == 201, answer.body
    secret: str = answer.data["secret"]
    return secret


async def _ok(api: Api, method: str, path: str, body: Any = None) -> dict[str, Any]:
    answer = await call(api, method, path, body)
    assert answer.status in (200, 201, 202), (path, answer.body)
    data: dict[str, Any] = answer.data
    return data


async def _every_invoice_event(api: Api, ledger: Ledger) -> None:
    """Commands that between them fire every invoice, receipt and customer event: the first
    invoice (a new customer's) goes through its whole life, paid in two parts; one more is
    voided, one more deleted as a draft, and a receipt is issued."""
    past = date.today() - timedelta(days=40)
    draft = await _ok(
        api,
        "POST",
        "/v1/invoices",
        {
            **KREDO_INVOICE,
            "status": "draft",
            "accept_partial_payments": True,
            "issue_date": past.isoformat(),
            "due_date": (past + timedelta(days=10)).isoformat(),
        },
    )
    path = f"/v1/invoices/{draft['id']}"
    await _ok(api, "PATCH", path, {"note": "Thank you"})
    await _ok(api, "POST", f"{path}/finalize")
    await _ok(api, "POST", f"{path}/send", {"email": "billing@afritech.test"})
    await _ok(api, "POST", f"{path}/payments", {"amount": 100000})
    assert await mark_invoice_overdue(ledger, UUID(draft["id"]), date.today())
    await _ok(api, "POST", f"{path}/payments", {"amount": 150000})

    voided = await _ok(api, "POST", "/v1/invoices", KREDO_INVOICE)
    await _ok(api, "POST", f"/v1/invoices/{voided['id']}/void")
    deleted = await _ok(api, "POST", "/v1/invoices", {**KREDO_INVOICE, "status": "draft"})
    await _ok(api, "DELETE", f"/v1/invoices/{deleted['id']}")
    await _ok(api, "POST", "/v1/invoices", {**KREDO_INVOICE, "type": "receipt"})


def _types(receiver: Receiver, secret: str) -> Counter[str]:
    """How many webhooks of each type arrived, each verified and with its id as webhook-id."""
    counted: Counter[str] = Counter()
    for headers, body in receiver.received:
        payload = Webhook(secret).verify(body, headers)
        assert headers["webhook-id"] == payload["id"]
        assert payload["environment"] == "test"
        assert payload["data"]["id"]
        counted[payload["event"]] += 1
    return counted


async def test_every_invoice_event_type_arrives_once_per_matching_endpoint(
    api: Api, ledger: Ledger, projector: None, worker: None
) -> None:
    everything = [await _receiver_at("/all") for _ in range(2)]
    only_paid, paid_server = await _receiver_at("/paid")
    secrets = [await _register(api, receiver.url, ["*"]) for receiver, _ in everything]
    paid_secret = await _register(api, only_paid.url, ["invoice.paid"])
    await _register(api, "http://127.0.0.1:9/never", ["product.out_of_stock"])
    try:
        await _every_invoice_event(api, ledger)

        async def all_arrived() -> bool:
            return all(
                set(_types(receiver, secret)) >= set(INVOICE_TYPES)
                for (receiver, _), secret in zip(everything, secrets, strict=True)
            )

        await wait_until(all_arrived, timeout=30)
        await asyncio.sleep(1)  # time for any duplicate to show
        for (receiver, _), secret in zip(everything, secrets, strict=True):
            counted = _types(receiver, secret)
            # Three invoices are created, two of them finalized, one paid in two payments (the
            # receipt's issuing is receipt.created alone); everything else happens once.
            assert {t: n for t, n in counted.items() if n != 1} == {
                "invoice.created": 3,
                "invoice.finalized": 2,
                "invoice.payment_recorded": 2,
            }, counted
        assert _types(only_paid, paid_secret) == {"invoice.paid": 1}
        paid = json.loads(only_paid.received[0][1])
        assert paid["data"]["status"] == "paid"
        assert paid["data"]["amount_due"] == 0
    finally:
        for _, server in [*everything, (only_paid, paid_server)]:
            await server.close()
