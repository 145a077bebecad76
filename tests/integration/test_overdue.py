"""The overdue job end to end (DESIGN.md §4, §7): job → `Overdue` in the log → dispatcher →
one `invoice.overdue` webhook and one event in the feed, however often the job runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from risiti.commands.ledger import Ledger
from risiti.commands.overdue import (
    mark_invoice_overdue,
    mark_overdue_invoices,
    overdue_candidates,
)
from risiti.config import Settings
from risiti.workers.overdue import mark_overdue

from .conftest import KREDO_INVOICE, Api, Receiver, wait_until
from .http_calls import call

pytestmark = pytest.mark.asyncio


def _days(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def _register(api: Api, receiver: Receiver) -> str:
    status, body = await api.post(
        "/v1/webhook-endpoints", {"url": receiver.url, "events": ["invoice.overdue"]}
    )
    assert status == 201, body
    secret: str = body["data"]["secret"]
    return secret


async def _create(api: Api, **fields: Any) -> str:
    status, body = await api.post("/v1/invoices", {**KREDO_INVOICE, **fields})
    assert status == 201, body
    invoice_id: str = body["data"]["id"]
    return invoice_id


async def _listed(pool: asyncpg.Pool, *ids: str) -> bool:
    """Whether the invoice list (where the job finds candidates) shows every invoice."""
    count: int = await pool.fetchval(
        "SELECT count(*) FROM invoice_list WHERE id = ANY($1::uuid[])", list(ids)
    )
    return count == len(ids)


async def _listed_due(pool: asyncpg.Pool, invoice_id: str, due_date: str) -> bool:
    listed: date | None = await pool.fetchval(
        "SELECT due_date FROM invoice_list WHERE id = $1", UUID(invoice_id)
    )
    return listed is not None and listed.isoformat() == due_date


async def _overdue_feed(api: Api) -> list[dict[str, Any]]:
    status, body = await api.get("/v1/events")
    assert status == 200, body
    return [event for event in body["data"] if event["event"] == "invoice.overdue"]


async def test_a_past_due_invoice_gets_exactly_one_overdue_webhook(
    api: Api,
    receiver: Receiver,
    projector: None,
    worker: None,
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    secret = await _register(api, receiver)
    late = await _create(api, issue_date=_days(-40), due_date=_days(-10))
    paid = await _create(api, issue_date=_days(-40), due_date=_days(-10))
    assert (await api.post(f"/v1/invoices/{paid}/mark-paid", {}))[0] == 200
    not_yet = await _create(api, issue_date=_days(-40), due_date=_days(0))
    await wait_until(lambda: _listed(pool, late, paid, not_yet))

    ctx = {"pool": pool, "settings": settings}
    await mark_overdue(ctx)
    await mark_overdue(ctx)

    await wait_until(lambda: _has(receiver, 1))
    await asyncio.sleep(1.0)
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["event"] == "invoice.overdue"
    assert payload["data"]["id"] == late
    assert payload["data"]["status"] == "open"
    assert payload["data"]["overdue"] is True
    assert payload["data"]["due_date"] == _days(-10)

    feed = await _overdue_feed(api)
    assert [event["data"]["id"] for event in feed] == [late]
    assert feed[0]["id"] == payload["id"] == headers["webhook-id"]


async def test_concurrent_runs_append_one_overdue_event(
    api: Api, projector: None, pool: asyncpg.Pool, ledger: Ledger
) -> None:
    late = await _create(api, issue_date=_days(-40), due_date=_days(-10))
    await wait_until(lambda: _listed(pool, late))
    today = datetime.now(UTC).date()

    runs = await asyncio.gather(*(mark_overdue_invoices(ledger, today) for _ in range(5)))

    assert sum(run.marked for run in runs) >= 1
    assert await _overdue_versions(pool, late) == 1
    # Once marked, later runs no longer even propose it.
    again = await mark_overdue_invoices(ledger, today)
    assert again.marked == 0
    assert UUID(late) not in await overdue_candidates(ledger, today, limit=100_000)


async def test_racing_markers_of_one_invoice_append_once(
    api: Api, pool: asyncpg.Pool, ledger: Ledger
) -> None:
    late = await _create(api, issue_date=_days(-40), due_date=_days(-10))
    today = datetime.now(UTC).date()

    marked = await asyncio.gather(
        *(mark_invoice_overdue(ledger, UUID(late), today) for _ in range(8))
    )

    assert marked.count(True) == 1
    assert await _overdue_versions(pool, late) == 1


async def test_a_due_date_moved_later_is_reported_again_once_it_passes(
    api: Api, projector: None, pool: asyncpg.Pool, ledger: Ledger
) -> None:
    late = await _create(api, issue_date=_days(-40), due_date=_days(-10))
    await wait_until(lambda: _listed(pool, late))
    today = datetime.now(UTC).date()
    await mark_overdue_invoices(ledger, today)
    moved = await call(api, "PATCH", f"/v1/invoices/{late}", {"due_date": _days(5)})
    assert moved.status == 200, moved.body
    # The job finds candidates in the invoice list, which must show the new due date first
    # (the runs may mark other tests' invoices too, which the projector applies as well).
    await wait_until(lambda: _listed_due(pool, late, today + timedelta(days=5)))

    await mark_overdue_invoices(ledger, today)
    assert await _overdue_versions(pool, late) == 1
    await mark_overdue_invoices(ledger, today + timedelta(days=6))
    await mark_overdue_invoices(ledger, today + timedelta(days=6))

    assert await _overdue_versions(pool, late) == 2


async def _listed_due(pool: asyncpg.Pool, invoice_id: str, due_date: date) -> bool:
    listed: date | None = await pool.fetchval(
        "SELECT due_date FROM invoice_list WHERE id = $1", UUID(invoice_id)
    )
    return listed == due_date


async def _overdue_versions(pool: asyncpg.Pool, invoice_id: str) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM events WHERE originator_id = $1 AND topic LIKE '%Invoice.Overdue'",
        UUID(invoice_id),
    )
    return count


async def _has(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count
