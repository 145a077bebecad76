"""Sending invoices end to end: POST /send → `SendRequested` in the log → dispatcher → a
`document_sends` row → ARQ worker → a real SMTP server or SMS gateway → `Sent` in the log →
`invoice.sent` at a real webhook receiver, and the outcome in `send_log`."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pypdf import PdfReader
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from risiti.commands.accounts import OpenedAccount
from risiti.config import Settings

from .conftest import KREDO_INVOICE, Api, Mailbox, Receiver, running_worker, wait_until
from .http_calls import call

pytestmark = pytest.mark.asyncio


async def _register(api: Api, receiver: Receiver, events: list[str]) -> str:
    status, body = await api.post("/v1/webhook-endpoints", {"url": receiver.url, "events": events})
    assert status == 201, body
    secret: str = body["data"]["secret"]
    return secret


async def _create(api: Api, **fields: Any) -> dict[str, Any]:
    status, body = await api.post("/v1/invoices", {**KREDO_INVOICE, **fields})
    assert status == 201, body
    invoice: dict[str, Any] = body["data"]
    return invoice


async def _send(api: Api, invoice: dict[str, Any], **where: str) -> None:
    status, body = await api.post(f"/v1/invoices/{invoice['id']}/send", where)
    assert status == 202, body


async def _settled_log(api: Api, invoice_id: str, count: int = 1) -> list[dict[str, Any]] | None:
    """The invoice's send_log once its first `count` requests are all settled."""
    status, body = await api.get(f"/v1/invoices/{invoice_id}")
    assert status == 200, body
    log: list[dict[str, Any]] = body["data"]["send_log"]
    settled = [entry for entry in log if entry["status"] != "requested"]
    return log if len(settled) >= count else None


def _address() -> str:
    return f"ada-{secrets.token_hex(4)}@client.test"


def _verified(secrets_: list[str], headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The payload, verified with the one endpoint secret that signed it."""
    for secret in secrets_:
        try:
            payload: dict[str, Any] = Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            continue
        return payload
    raise AssertionError("no endpoint secret verifies this webhook")


async def test_sent_invoice_arrives_by_email_with_its_link_and_pdf_and_fires_invoice_sent_once_per_endpoint(  # noqa: E501
    api: Api,
    account: OpenedAccount,
    receiver: Receiver,
    mailbox: Mailbox,
    projector: None,
    worker: None,
) -> None:
    endpoint_secrets = [await _register(api, receiver, ["invoice.sent"]) for _ in range(2)]
    await _register(api, receiver, ["invoice.paid"])
    invoice = await _create(api, due_date="2026-12-31")
    address = _address()

    await _send(api, invoice, email=address)

    [message] = await wait_until(lambda: _arrived(mailbox, address))
    assert message["Subject"].strip() == f"Invoice {invoice['document_number']} from {account.name}"
    text = message.get_body(("plain",)).get_content()
    assert invoice["view_url"] in text
    assert invoice["view_url"].startswith("http://risiti.test/i/")
    assert "Amount due: ₦2,500.00" in text
    assert "Due date: 31 December 2026" in text
    assert f'href="{invoice["view_url"]}"' in message.get_body(("html",)).get_content()
    [pdf] = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"{invoice['document_number']}.pdf"
    pdf_text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_content())).pages
    )
    assert invoice["document_number"] in pdf_text
    assert "₦2,500.00" in pdf_text

    await wait_until(lambda: _received(receiver, 2))
    await asyncio.sleep(0.5)
    payloads = [_verified(endpoint_secrets, h, body) for h, body in receiver.received]
    assert [p["event"] for p in payloads] == ["invoice.sent", "invoice.sent"]
    assert len({p["id"] for p in payloads}) == 1  # one event, delivered to each endpoint
    [entry] = payloads[0]["data"]["send_log"]
    assert (entry["status"], entry["deliveries"][0]["to"]) == ("sent", address)

    [logged] = await wait_until(lambda: _settled_log(api, invoice["id"]))
    assert logged["status"] == "sent"
    assert logged["deliveries"][0]["sent_at"] is not None


async def test_text_message_is_recorded_by_the_log_provider(
    api: Api, caplog: pytest.LogCaptureFixture, projector: None, worker: None
) -> None:
    caplog.set_level(logging.INFO, logger="risiti.workers.channels")
    invoice = await _create(api)
    phone = f"+234801{secrets.randbelow(10**7):07d}"

    await _send(api, invoice, phone=phone)

    [entry] = await wait_until(lambda: _settled_log(api, invoice["id"]))
    assert entry["status"] == "sent"
    assert entry["deliveries"][0]["channel"] == "sms"
    [record] = [r for r in caplog.records if phone in r.getMessage()]
    assert invoice["view_url"] in record.getMessage()
    assert invoice["document_number"] in record.getMessage()


class Gateway:
    """A real HTTP server standing in for an SMS gateway; answers `statuses` first, then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.statuses: list[int] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.json()))
        return web.json_response(
            {"ok": True}, status=self.statuses.pop(0) if self.statuses else 200
        )


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    recorder = Gateway()
    app = web.Application()
    app.router.add_post("/sms", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    recorder.url = str(server.make_url("/sms"))
    yield recorder
    await server.close()


async def test_http_sms_provider_posts_to_the_gateway_and_retries_a_busy_one(
    api: Api, settings: Settings, gateway: Gateway, projector: None
) -> None:
    gateway.statuses = [503]
    http_sms = settings.model_copy(
        update={
            "sms_provider": "http",
            "sms_http_url": gateway.url,
            "sms_http_token": "gw-token",
            "sms_sender_id": "AdaShop",
        }
    )
    invoice = await _create(api)

    async with running_worker(http_sms):
        await _send(api, invoice, phone="+2348012345678")
        [entry] = await wait_until(lambda: _settled_log(api, invoice["id"]), timeout=20)

    assert entry["status"] == "sent"
    assert len(gateway.received) == 2  # the 503, then the retry that went through
    headers, body = gateway.received[-1]
    assert headers["Authorization"] == "Bearer gw-token"
    assert body["to"] == "+2348012345678"
    assert body["from"] == "AdaShop"
    assert invoice["view_url"] in body["message"]


async def test_refused_address_fails_the_send_without_invoice_sent(
    api: Api, receiver: Receiver, mailbox: Mailbox, projector: None, worker: None
) -> None:
    await _register(api, receiver, ["invoice.sent", "invoice.updated"])
    invoice = await _create(api)
    address = _address()
    mailbox.refuse[address] = ["550 5.1.1 No such mailbox"]

    await _send(api, invoice, email=address)

    [entry] = await wait_until(lambda: _settled_log(api, invoice["id"]))
    assert entry["status"] == "failed"
    assert "550" in entry["deliveries"][0]["error"]
    await asyncio.sleep(0.5)
    assert receiver.received == []
    assert mailbox.to(address) == []


async def test_busy_mail_server_is_tried_again_and_the_email_arrives_once(
    api: Api, pool: asyncpg.Pool, mailbox: Mailbox, projector: None, worker: None
) -> None:
    invoice = await _create(api)
    address = _address()
    mailbox.refuse[address] = ["451 4.3.0 Try again later"]

    await _send(api, invoice, email=address)

    [entry] = await wait_until(lambda: _settled_log(api, invoice["id"]), timeout=20)
    assert entry["status"] == "sent"
    assert len(mailbox.to(address)) == 1
    attempts = await pool.fetchval(
        "SELECT attempts FROM document_sends WHERE invoice_id = $1", invoice["id"]
    )
    assert attempts == 2


async def test_send_of_an_invoice_voided_before_it_went_out_is_cancelled(
    api: Api, mailbox: Mailbox, settings: Settings, projector: None
) -> None:
    invoice = await _create(api)
    address = _address()
    await _send(api, invoice, email=address)
    answer = await call(api, "POST", f"/v1/invoices/{invoice['id']}/void", {})
    assert answer.status == 200, answer.body

    async with running_worker(settings):
        [entry] = await wait_until(lambda: _settled_log(api, invoice["id"]))

    assert entry["status"] == "cancelled"
    assert entry["deliveries"][0]["error"] == "Not sent: the invoice is void."
    assert mailbox.to(address) == []


async def _arrived(mailbox: Mailbox, address: str) -> list[Any]:
    return mailbox.to(address)


async def _received(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count


async def test_a_send_whose_wake_up_was_lost_is_swept_up_and_sent(
    api: Api, settings: Settings, pool: asyncpg.Pool, mailbox: Mailbox, projector: None
) -> None:
    from arq import create_pool as create_redis_pool
    from arq.connections import RedisSettings

    invoice = await _create(api)
    address = _address()
    await _send(api, invoice, email=address)
    await wait_until(lambda: _send_rows(pool, invoice["id"]))
    await asyncio.sleep(0.3)  # the dispatcher enqueues just after it commits the row
    # Redis loses the queue (a restart without persistence): only the row is left.
    assert settings.redis_url is not None
    redis = await create_redis_pool(RedisSettings.from_dsn(settings.redis_url))
    await redis.delete(settings.queue_name)
    await redis.aclose()

    async with running_worker(settings):
        [entry] = await wait_until(lambda: _settled_log(api, invoice["id"]), timeout=20)

    assert entry["status"] == "sent"
    assert len(mailbox.to(address)) == 1


async def _send_rows(pool: asyncpg.Pool, invoice_id: str) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM document_sends WHERE invoice_id = $1", invoice_id
    )
    return count
