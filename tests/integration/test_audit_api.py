"""Auditors over HTTP (docs/auditing.md): an invoice's history in order with who and what, the
invoice as of an instant or a version between its events, and the account's checkpoints."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from arq import Worker
from eventsourcing.persistence import StoredEvent

from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.domain.invoice import Invoice
from risiti.eventstore.recorder import append_events
from risiti.workers.overdue import mark_overdue
from risiti.workers.settings import worker_settings

from .checkpointing import checkpoint_through
from .conftest import KREDO_INVOICE, Api, running, wait_until
from .http_calls import call


async def _key_id(pool: asyncpg.Pool, account: OpenedAccount) -> str:
    key_id: str = await pool.fetchval(
        "SELECT key_id FROM api_keys WHERE account_id = $1 AND NOT livemode", account.account_id
    )
    return key_id


async def _paid_in_two_steps(api: Api) -> str:
    """Create (issued at once) → a partial payment of 100 000 → the remaining 150 000."""
    created = await call(
        api, "POST", "/v1/invoices", {**KREDO_INVOICE, "accept_partial_payments": True}
    )
    assert created.status == 201, created.body
    invoice_id: str = created.data["id"]
    for amount in (100000, 150000):
        paid = await call(
            api,
            "POST",
            f"/v1/invoices/{invoice_id}/payments",
            {"amount": amount, "method": "bank_transfer"},
        )
        assert paid.status == 201, paid.body
    return invoice_id


async def test_history_lists_create_partial_payment_and_payment_in_order_with_who_and_what(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    invoice_id = await _paid_in_two_steps(api)

    answer = await call(api, "GET", "/v1/invoices/INV-2026-0001/history")

    assert answer.status == 200, answer.body
    history = answer.data
    assert history["object"] == "invoice_history"
    assert history["invoice_id"] == invoice_id
    assert history["document_number"] == "INV-2026-0001"
    events = history["events"]
    assert [e["type"] for e in events] == [
        "Created",
        "Finalized",
        "PaymentRecorded",
        "PaymentRecorded",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4]
    assert {e["actor"] for e in events} == {await _key_id(pool, account)}
    recorded = [datetime.fromisoformat(e["recorded_at"]) for e in events]
    assert recorded == sorted(recorded)
    assert [e["changes"].get("amount") for e in events[2:]] == [100000, 150000]
    assert events[2]["changes"]["method"] == "bank_transfer"
    assert events[0]["changes"]["customer"]["name"] == "AfriTech Solutions"
    assert events[1]["changes"]["document_number"] == "INV-2026-0001"
    assert all(len(bytes.fromhex(e["hash"])) == 32 for e in events)


async def test_as_of_a_moment_between_the_payments_shows_the_state_of_that_moment(api: Api) -> None:
    invoice_id = await _paid_in_two_steps(api)
    events = (await call(api, "GET", f"/v1/invoices/{invoice_id}/history")).data["events"]
    partial_at = datetime.fromisoformat(events[2]["recorded_at"])
    full_at = datetime.fromisoformat(events[3]["recorded_at"])
    between = partial_at + (full_at - partial_at) / 2

    then = await call(
        api, "GET", f"/v1/invoices/{invoice_id}?as_of={between.isoformat().replace('+', '%2B')}"
    )
    today = await call(api, "GET", f"/v1/invoices/{invoice_id}")

    assert then.status == 200, then.body
    assert (then.data["status"], then.data["amount_paid"], then.data["amount_due"]) == (
        "partially_paid",
        100000,
        150000,
    )
    assert then.data["version"] == 3
    assert then.headers["ETag"] == '"3"'
    assert [p["amount"] for p in then.data["payments"]] == [100000]
    assert set(then.data) == set(today.data)  # the same representation as today's read
    assert (today.data["status"], today.data["amount_paid"]) == ("paid", 250000)


async def test_as_of_an_event_s_own_instant_includes_it_and_version_reads_the_same(
    api: Api,
) -> None:
    invoice_id = await _paid_in_two_steps(api)
    events = (await call(api, "GET", f"/v1/invoices/{invoice_id}/history")).data["events"]

    issued = await _get(api, f"/v1/invoices/{invoice_id}", as_of=events[1]["recorded_at"])
    by_version = await _get(api, f"/v1/invoices/{invoice_id}", version="2")
    draft = await _get(api, f"/v1/invoices/{invoice_id}", version="1")

    assert issued == by_version
    assert (issued["status"], issued["amount_paid"], issued["version"]) == ("open", 0, 2)
    assert (draft["status"], draft["document_number"]) == ("draft", None)


async def _get(api: Api, path: str, **params: str) -> dict[str, Any]:
    status, body = await api.get(path, **params)
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


async def test_before_creation_or_past_the_last_version_is_not_found_and_bad_values_invalid(
    api: Api,
) -> None:
    invoice_id = await _paid_in_two_steps(api)
    path = f"/v1/invoices/{invoice_id}"

    too_early = await api.get(path, as_of="2000-01-01T00:00:00Z")
    too_far = await api.get(path, version="9")
    zero = await api.get(path, version="0")
    naive = await api.get(path, as_of="2026-01-01T00:00:00")
    both = await api.get(path, version="1", as_of="2030-01-01T00:00:00Z")

    assert too_early[0] == 404 and too_early[1]["error"]["code"] == "not_found"
    assert "did not exist yet" in too_early[1]["error"]["message"]
    assert (
        too_far[0] == 404 and "has no version 9; its latest is 4" in too_far[1]["error"]["message"]
    )
    for status, body in (zero, naive, both):
        assert status == 422 and body["error"]["code"] == "validation_error", body


async def test_another_account_cannot_read_an_invoice_s_history_or_past(
    api: Api, http: Any, ledger: Ledger
) -> None:
    invoice_id = await _paid_in_two_steps(api)
    stranger = Api(http, (await open_account(ledger, "Stranger")).test_key)

    history = await stranger.get(f"/v1/invoices/{invoice_id}/history")
    past = await stranger.get(f"/v1/invoices/{invoice_id}", version="1")

    assert history[0] == 404 and past[0] == 404


async def test_a_deleted_draft_keeps_its_history_but_reads_only_before_deletion(api: Api) -> None:
    created = await call(api, "POST", "/v1/invoices", {**KREDO_INVOICE, "status": "draft"})
    invoice_id = created.data["id"]
    assert (await call(api, "DELETE", f"/v1/invoices/{invoice_id}")).status == 200

    history = await call(api, "GET", f"/v1/invoices/{invoice_id}/history")
    before = await api.get(f"/v1/invoices/{invoice_id}", version="1")
    after = await api.get(f"/v1/invoices/{invoice_id}", version="2")

    assert [e["type"] for e in history.data["events"]] == ["Created", "Deleted"]
    assert before[0] == 200 and before[1]["data"]["status"] == "draft"
    assert after[0] == 404 and "was deleted at version 2" in after[1]["error"]["message"]


async def test_the_overdue_job_is_named_as_the_actor_of_its_events(
    api: Api, pool: asyncpg.Pool, projector: None
) -> None:
    today = datetime.now(UTC).date()
    created = await call(
        api,
        "POST",
        "/v1/invoices",
        {
            **KREDO_INVOICE,
            "issue_date": (today - timedelta(days=40)).isoformat(),
            "due_date": (today - timedelta(days=10)).isoformat(),
        },
    )

    path = f"/v1/invoices/{created.data['id']}/history"

    async def marked() -> Any:
        await mark_overdue({"pool": pool})  # it finds candidates in the projected list
        events = (await call(api, "GET", path)).data["events"]
        return events if events[-1]["type"] == "Overdue" else None

    events = await wait_until(marked, timeout=15)
    assert (events[-1]["type"], events[-1]["actor"]) == ("Overdue", "job:overdue")


async def test_events_from_before_actors_were_recorded_show_null(
    api: Api, pool: asyncpg.Pool
) -> None:
    invoice_id = await _paid_in_two_steps(api)
    await pool.execute("UPDATE events SET actor = NULL WHERE originator_id = $1", UUID(invoice_id))

    events = (await call(api, "GET", f"/v1/invoices/{invoice_id}/history")).data["events"]

    assert [e["actor"] for e in events] == [None] * 4


async def test_checkpoints_cover_the_account_s_events_and_chain_one_to_the_next(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    await checkpoint_through(pool, UUID(await _paid_in_two_steps(api)))
    second = await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    await checkpoint_through(pool, UUID(second.data["id"]))

    checkpoints, cursor, pages = [], None, 0
    while True:
        page = await call(
            api, "GET", "/v1/audit/checkpoints?limit=1" + (f"&cursor={cursor}" if cursor else "")
        )
        assert page.status == 200, page.body
        checkpoints += page.data
        pages += 1
        cursor = page.body["next_cursor"]
        if not page.body["has_more"]:
            break

    # Usually two (one per run); more where a transaction open elsewhere on the server held
    # the horizon back and a run covered only part of what was new.
    assert pages == len(checkpoints) >= 2
    assert [c["sequence"] for c in checkpoints] == list(range(1, len(checkpoints) + 1))
    assert {c["account_id"] for c in checkpoints} == {str(account.account_id)}
    assert checkpoints[0]["previous_root"] == "00" * 32
    for before, next_one in itertools.pairwise(checkpoints):
        assert next_one["previous_root"] == before["root"]
        before_end = (before["up_to_transaction_id"], before["up_to_position"])
        assert before_end <= (next_one["after_transaction_id"], next_one["after_position"])
    events = await pool.fetchval(
        "SELECT count(*) FROM events WHERE account_id = $1", account.account_id
    )
    assert sum(c["event_count"] for c in checkpoints) == events
    assert all(len(bytes.fromhex(c["root"])) == 32 for c in checkpoints)


async def test_the_worker_s_cron_records_checkpoints_every_minute(
    api: Api, settings: Settings, pool: asyncpg.Pool
) -> None:
    await _paid_in_two_steps(api)
    crons = {job.name: job for job in worker_settings(settings)["cron_jobs"]}
    checkpointing = crons[f"cron:{settings.queue_name}:checkpoint_log"]
    assert (checkpointing.second, checkpointing.minute) == (30, None)  # at :30 every minute

    # The worker runs that very cron job; at once here rather than at the next :30.
    only = dataclasses.replace(checkpointing, run_at_startup=True)
    arq_worker = Worker(**{**worker_settings(settings), "cron_jobs": [only]}, handle_signals=False)
    async with running(arq_worker.async_run()):

        async def listed() -> Any:
            return (await call(api, "GET", "/v1/audit/checkpoints")).data

        # A transaction open elsewhere on the server may hold the newest events above the
        # horizon at startup; then the run at the next :30 covers them.
        checkpoints = await wait_until(listed, timeout=70, interval=0.2)
        await asyncio.sleep(0.2)  # let the job's result be stored before the worker stops
    await arq_worker.close()

    events = await pool.fetchval(
        "SELECT count(*) FROM events WHERE account_id = $1", UUID(checkpoints[0]["account_id"])
    )
    assert 0 < sum(c["event_count"] for c in checkpoints) <= events


async def test_an_old_version_event_is_read_back_through_its_upcaster(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, ledger: Ledger
) -> None:
    invoice_id = UUID(await _paid_in_two_steps(api))
    # A PaymentsReversed as version 1 wrote it: no class_version, no payment_ids.
    old_state = (
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-04-02T10:00:00+00:00"},'
        b'"reason":"transfer bounced",'
        b'"reversed_at":{"_type_":"datetime_iso","_data_":"2026-04-02T10:00:00+00:00"}}'
    )
    async with pool.acquire() as conn, conn.transaction():
        await append_events(
            conn,
            [
                StoredEvent(
                    invoice_id, 5, "risiti.domain.invoice:Invoice.PaymentsReversed", old_state
                )
            ],
            account_id=account.account_id,
            livemode=False,
        )

    invoice = await ledger.get(Invoice, invoice_id)
    history = (await call(api, "GET", f"/v1/invoices/{invoice_id}/history")).data["events"]

    assert (invoice.status, invoice.amount_paid) == ("open", 0)
    assert all(p["reversed_at"] is not None for p in invoice.payments)
    assert history[-1]["type"] == "PaymentsReversed"
    assert history[-1]["changes"]["payment_ids"] is None
    assert history[-1]["changes"]["reason"] == "transfer bounced"
