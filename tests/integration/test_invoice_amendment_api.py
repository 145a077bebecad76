"""Amending an issued invoice over HTTP (DESIGN.md §11): `PATCH` of an open invoice's figures is
an `Amended` event whose history shows the old and new figures; the list, the balances and an
`invoice.updated` webhook read the new total; once money was received, a 409 says what to do."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api, Receiver, wait_until
from .http_calls import call, event_count

pytestmark = pytest.mark.asyncio

TOTAL = 250000
MORE_ITEMS = [
    {"description": "Server Migration setup", "qty": 1, "price": 250000},
    {"description": "Domain registration", "qty": 4, "price": 2500},
]
AMENDED_TOTAL = 260000


async def _issued(api: Api, **fields: Any) -> dict[str, Any]:
    answer = await call(api, "POST", "/v1/invoices", KREDO_INVOICE | fields)
    assert answer.status == 201, answer.body
    invoice: dict[str, Any] = answer.data
    return invoice


async def _amended(api: Api, invoice: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    answer = await call(
        api,
        "PATCH",
        f"/v1/invoices/{invoice['id']}",
        changes,
        If_Match=f'"{invoice["version"]}"',
    )
    assert answer.status == 200, answer.body
    amended: dict[str, Any] = answer.data
    return amended


async def test_patching_an_open_invoice_s_items_amends_it_under_the_same_number(api: Api) -> None:
    invoice = await _issued(api)

    amended = await _amended(api, invoice, {"items": MORE_ITEMS, "note": "Domains added"})

    assert (amended["total"], amended["amount_due"]) == (AMENDED_TOTAL, AMENDED_TOTAL)
    assert amended["status"] == "open"
    assert amended["document_number"] == invoice["document_number"]
    assert [item["description"] for item in amended["items"]] == [
        "Server Migration setup",
        "Domain registration",
    ]
    assert amended["version"] == invoice["version"] + 1


async def test_the_history_of_an_amended_invoice_shows_its_old_and_new_figures(api: Api) -> None:
    invoice = await _issued(api)
    await _amended(api, invoice, {"items": MORE_ITEMS, "note": "Domains added"})

    answer = await call(api, "GET", f"/v1/invoices/{invoice['id']}/history")

    assert answer.status == 200, answer.body
    events = answer.data["events"]
    assert [e["type"] for e in events] == ["Created", "Finalized", "Amended"]
    amendment = events[-1]["changes"]
    assert (amendment["total_before"], amendment["total_after"]) == (TOTAL, AMENDED_TOTAL)
    assert [item["unit_price"] for item in amendment["previous"]["items"]] == [250000]
    assert [item["unit_price"] for item in amendment["changes"]["items"]] == [250000, 2500]
    assert (amendment["previous"]["note"], amendment["changes"]["note"]) == (None, "Domains added")
    assert answer.data["document_number"] == invoice["document_number"]
    before = await call(api, "GET", f"/v1/invoices/{invoice['id']}?version=2")
    assert before.data["total"] == TOTAL


@pytest.mark.parametrize(
    ("pay", "status"),
    [({"amount": 100000}, "partially_paid"), (None, "paid")],
    ids=["partly", "wholly"],
)
async def test_once_money_was_received_an_amendment_is_refused_saying_what_to_do_instead(
    api: Api,
    pool: asyncpg.Pool,
    account: OpenedAccount,
    pay: dict[str, Any] | None,
    status: str,
) -> None:
    invoice = await _issued(api, accept_partial_payments=True)
    action = "payments" if pay else "mark-paid"
    paid = await call(api, "POST", f"/v1/invoices/{invoice['id']}/{action}", pay or {})
    assert paid.status in (200, 201), paid.body
    before = await event_count(pool, account.account_id)

    answer = await call(api, "PATCH", f"/v1/invoices/{invoice['id']}", {"items": MORE_ITEMS})

    assert answer.status == 409, answer.body
    assert answer.error["code"] == "invalid_state"
    assert answer.error["details"][0]["current"] == status
    message = answer.error["message"]
    assert "Mark it unpaid first to reverse the payments, then amend it" in message
    assert "void it and issue a new invoice" in message
    assert await event_count(pool, account.account_id) == before


async def test_an_amendment_cannot_change_the_currency(api: Api) -> None:
    invoice = await _issued(api)

    answer = await call(
        api, "PATCH", f"/v1/invoices/{invoice['id']}", {"currency": "USD", "items": MORE_ITEMS}
    )

    assert answer.status == 409, answer.body
    assert "Cannot change currency of an invoice once issued" in answer.error["message"]


async def test_the_list_and_balances_read_the_amended_total(api: Api, projector: None) -> None:
    invoice = await _issued(api)
    await _amended(api, invoice, {"items": MORE_ITEMS})

    async def listed_at_new_total() -> bool:
        answer = await call(api, "GET", "/v1/invoices?limit=10")
        return [(i["id"], i["total"]) for i in answer.data] == [(invoice["id"], AMENDED_TOTAL)]

    async def owed_at_new_total() -> bool:
        answer = await call(api, "GET", "/v1/balances")
        return [(b["currency"], b["outstanding"]) for b in answer.data["balances"]] == [
            ("NGN", AMENDED_TOTAL)
        ]

    await wait_until(listed_at_new_total)
    await wait_until(owed_at_new_total)


async def test_an_amendment_fires_invoice_updated_with_the_amended_document(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    registered = await call(
        api, "POST", "/v1/webhook-endpoints", {"url": receiver.url, "events": ["invoice.updated"]}
    )
    assert registered.status == 201, registered.body
    invoice = await _issued(api)
    await _amended(api, invoice, {"items": MORE_ITEMS})

    async def received() -> bool:
        return len(receiver.received) >= 1

    await wait_until(received)
    headers, body = receiver.received[0]
    payload = Webhook(registered.data["secret"]).verify(body, headers)
    assert payload["event"] == "invoice.updated"
    assert payload["data"]["id"] == invoice["id"]
    assert payload["data"]["total"] == AMENDED_TOTAL
    assert payload["data"]["document_number"] == invoice["document_number"]
    assert len(receiver.received) == 1, [json.loads(b)["event"] for _, b in receiver.received]
