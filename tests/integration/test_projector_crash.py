"""A projector killed with SIGKILL mid-run loses and repeats nothing once restarted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount
from risiti.commands.caller import Caller
from risiti.commands.documents import invoice_record
from risiti.commands.invoices import CreateInvoice, RecordPayment, create_invoice, record_payment
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.domain.invoice import Invoice, InvoiceDraft

from .conftest import wait_until

pytestmark = pytest.mark.asyncio


def _start_projector(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": settings.redis_url or "",
        "RISITI_QUEUE_NAME": settings.queue_name,
        "RISITI_POLL_INTERVAL": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "risiti.cli", "projector"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _write_invoices(ledger: Ledger, caller: Caller, count: int) -> None:
    for index in range(count):
        draft = InvoiceDraft(
            account_id=caller.account_id,
            livemode=False,
            document_type="invoice",
            currency="NGN",
            customer={"name": f"Customer {index}"},
            items=[{"description": "Work", "quantity": 1, "unit_price": 1000 + index}],
            issue_date=datetime.now(UTC).date(),
            accept_partial_payments=True,
        )
        invoice = await create_invoice(ledger, CreateInvoice(caller, draft))
        if index % 2:
            await record_payment(ledger, RecordPayment(caller, invoice.id, amount=500))


async def _rebuilt_from_log(ledger: Ledger, account: OpenedAccount) -> dict[str, dict[str, object]]:
    ids = await ledger.pool.fetch(
        "SELECT DISTINCT originator_id FROM events WHERE account_id = $1 AND livemode = false",
        account.account_id,
    )
    records = [invoice_record(await ledger.get(Invoice, row["originator_id"])) for row in ids]
    return {record["id"]: record for record in records}


async def _listed(pool: asyncpg.Pool, account: OpenedAccount) -> dict[str, dict[str, object]]:
    rows = await pool.fetch(
        "SELECT document::text FROM invoice_list WHERE account_id = $1", account.account_id
    )
    documents = [json.loads(row["document"]) for row in rows]
    return {document["id"]: document for document in documents}


async def test_sigkilled_projector_leaves_invoice_list_equal_to_a_rebuild(
    settings: Settings, ledger: Ledger, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    caller = Caller(account.account_id, False, "test")
    writing = asyncio.create_task(_write_invoices(ledger, caller, 150))
    for _ in range(3):
        projector = _start_projector(settings)
        await asyncio.sleep(1.5)
        projector.send_signal(signal.SIGKILL)
        projector.wait()
    await writing
    projector = _start_projector(settings)
    try:
        expected = await _rebuilt_from_log(ledger, account)

        async def caught_up() -> bool:
            return await _listed(pool, account) == expected

        await wait_until(caught_up, timeout=60, interval=0.2)
    finally:
        projector.terminate()
        projector.wait()

    assert len(expected) == 150
