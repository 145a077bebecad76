"""Payment reminders end to end: the account's schedule → the reminders job → a reminder
request in the log → the same send path as any send (email, `send_log`, `invoice.sent`).
Each reminder goes out once, however often or late the job runs, and never for an invoice
that is paid or void."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from risiti.commands.ledger import Ledger
from risiti.commands.reminders import request_due_reminders
from risiti.config import Settings

from .conftest import KREDO_INVOICE, Api, Mailbox, Receiver, running_worker, wait_until
from .http_calls import call

pytestmark = pytest.mark.asyncio


def _today() -> date:
    return datetime.now(UTC).date()


async def _schedule(api: Api, reminder_days: list[int]) -> None:
    answer = await call(api, "PATCH", "/v1/account", {"reminder_days": reminder_days})
    assert answer.status == 200, answer.body
    assert answer.data["reminder_days"] == sorted(set(reminder_days))


async def _create(api: Api, due_in_days: int, **fields: Any) -> dict[str, Any]:
    address = f"owes-{secrets.token_hex(4)}@client.test"
    body = {
        **KREDO_INVOICE,
        "customer_email": address,
        "issue_date": _today().isoformat(),
        "due_date": (_today() + timedelta(days=due_in_days)).isoformat(),
        **fields,
    }
    status, answer = await api.post("/v1/invoices", body)
    assert status == 201, answer
    invoice: dict[str, Any] = answer["data"]
    return invoice


async def _listed(pool: asyncpg.Pool, invoices: dict[str, str]) -> bool:
    """Whether the invoice list (where the job finds candidates) shows each invoice's status."""
    rows = await pool.fetch(
        "SELECT id::text, status FROM invoice_list WHERE id = ANY($1::uuid[])", list(invoices)
    )
    return {row["id"]: row["status"] for row in rows} == invoices


async def _reminders_in_log(api: Api, invoice_id: str) -> list[int | None]:
    status, body = await api.get(f"/v1/invoices/{invoice_id}")
    assert status == 200, body
    return [entry["reminder_days"] for entry in body["data"]["send_log"]]


async def _emails(mailbox: Mailbox, invoice: dict[str, Any], count: int) -> list[Any] | None:
    received = mailbox.to(invoice["customer"]["email"])
    return received if len(received) >= count else None


async def test_each_reminder_is_sent_once_even_after_an_outage_and_never_when_paid_or_void(
    api: Api,
    ledger: Ledger,
    pool: asyncpg.Pool,
    mailbox: Mailbox,
    receiver: Receiver,
    projector: None,
    worker: None,
) -> None:
    status, _ = await api.post(
        "/v1/webhook-endpoints", {"url": receiver.url, "events": ["invoice.sent"]}
    )
    assert status == 201
    await _schedule(api, [7, -3, 0])
    owed = await _create(api, due_in_days=3)
    paid = await _create(api, due_in_days=3)
    void = await _create(api, due_in_days=3)
    await api.post(f"/v1/invoices/{paid['id']}/mark-paid", {})
    await api.post(f"/v1/invoices/{void['id']}/void", {})
    await wait_until(
        lambda: _listed(pool, {owed["id"]: "open", paid["id"]: "paid", void["id"]: "void"})
    )

    # Three days before the due date, the job runs twice: one reminder.
    await request_due_reminders(ledger, _today())
    await request_due_reminders(ledger, _today())
    [first] = await wait_until(lambda: _emails(mailbox, owed, 1))
    # Python folds a long header right after its name; unfolded, the space goes (RFC 5322).
    assert first["Subject"].strip().startswith("Reminder: Invoice ")
    assert owed["view_url"] in first.get_body(("plain",)).get_content()

    # Then the job does not run for ten days; when it does, and again after, the reminder of
    # the latest day that has come (7 days after the due date) goes out, once.
    for late in (10, 10, 11):
        await request_due_reminders(ledger, _today() + timedelta(days=late))
    await wait_until(lambda: _emails(mailbox, owed, 2))
    await wait_until(lambda: _received_count(receiver, 2))
    await asyncio.sleep(0.5)

    assert len(mailbox.to(owed["customer"]["email"])) == 2
    assert await _reminders_in_log(api, owed["id"]) == [-3, 7]
    sent = [json.loads(body) for _, body in receiver.received]
    assert [payload["event"] for payload in sent] == ["invoice.sent", "invoice.sent"]
    assert sent[-1]["data"]["send_log"][-1]["reminder_days"] == 7
    for settled in (paid, void):
        assert mailbox.to(settled["customer"]["email"]) == []
        assert await _reminders_in_log(api, settled["id"]) == []


async def test_the_workers_reminder_cron_sends_a_reminder_due_today(
    api: Api, pool: asyncpg.Pool, mailbox: Mailbox, settings: Settings, projector: None
) -> None:
    await _schedule(api, [0])
    owed = await _create(api, due_in_days=0, customer_phone="+2348012345678")
    await wait_until(lambda: _listed(pool, {owed["id"]: "open"}))

    # The cron runs when the worker starts, then every ten minutes.
    async with running_worker(settings):
        [reminder] = await wait_until(lambda: _emails(mailbox, owed, 1))
        _, body = await api.get(f"/v1/invoices/{owed['id']}")

    assert "is due today" in reminder["Subject"]
    [entry] = body["data"]["send_log"]
    assert entry["reminder_days"] == 0
    assert [d["channel"] for d in entry["deliveries"]] == ["email", "sms"]


async def test_a_schedule_reaching_past_a_year_is_refused(api: Api) -> None:
    answer = await call(api, "PATCH", "/v1/account", {"reminder_days": [0, 400]})

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    current = await call(api, "GET", "/v1/account")
    assert current.data["reminder_days"] == []


async def _received_count(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count
