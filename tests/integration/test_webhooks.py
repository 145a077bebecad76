"""Webhooks end to end: command → log → dispatcher → delivery row → ARQ worker → receiver."""

from __future__ import annotations

import asyncio
import json

import pytest
from standardwebhooks.webhooks import Webhook

from .conftest import KREDO_INVOICE, Api, Receiver, wait_until

pytestmark = pytest.mark.asyncio


async def _register(api: Api, receiver: Receiver, events: list[str]) -> str:
    status, body = await api.post("/v1/webhook-endpoints", {"url": receiver.url, "events": events})
    assert status == 201, body
    secret: str = body["data"]["secret"]
    assert secret.startswith("whsec_")
    return secret


async def test_paid_invoice_sends_one_signed_invoice_paid_webhook(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    secret = await _register(api, receiver, ["invoice.paid"])
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)
    invoice_id = created["data"]["id"]
    await api.post(f"/v1/invoices/{invoice_id}/payments", {"amount": 250000})

    await wait_until(lambda: _received(receiver, 1))
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)

    assert payload["event"] == "invoice.paid"
    assert payload["environment"] == "test"
    assert payload["data"]["id"] == invoice_id
    assert payload["data"]["status"] == "paid"
    assert payload["data"]["amount_paid"] == 250000
    assert headers["webhook-id"] == payload["id"]


async def test_endpoint_receives_only_the_event_types_it_chose(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    await _register(api, receiver, ["invoice.created", "invoice.partially_paid"])
    _, created = await api.post("/v1/invoices", {**KREDO_INVOICE, "accept_partial_payments": True})
    await api.post(f"/v1/invoices/{created['data']['id']}/payments", {"amount": 1000})

    await wait_until(lambda: _received(receiver, 2))
    events = sorted(json.loads(body)["event"] for _, body in receiver.received)

    assert events == ["invoice.created", "invoice.partially_paid"]


async def test_failed_delivery_is_retried_with_the_same_webhook_id(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    receiver.statuses = [500, 500]
    secret = await _register(api, receiver, ["invoice.created"])
    await api.post("/v1/invoices", KREDO_INVOICE)

    await wait_until(lambda: _received(receiver, 3), timeout=30)
    ids = {headers["webhook-id"] for headers, _ in receiver.received}

    assert len(ids) == 1
    Webhook(secret).verify(receiver.received[2][1], receiver.received[2][0])


async def _received(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count
