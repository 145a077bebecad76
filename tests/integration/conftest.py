"""Real PostgreSQL, real Redis, real HTTP: the fixtures of the integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import os
import secrets
import signal
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from risiti.api.app import create_app
from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.ledger import Ledger
from risiti.config import Settings
from risiti.embedded import (
    EmbeddedServersNotInstalled,
    database_url_for,
    start_embedded_servers,
)
from risiti.eventstore.database import connect, create_database, create_pool, drop_database
from risiti.eventstore.migrations import migrate


@pytest.fixture(scope="session")
def server_urls() -> Iterator[tuple[str, str]]:
    """(PostgreSQL server URL, Redis URL) from the environment, or from embedded servers."""
    database_url = os.environ.get("RISITI_DATABASE_URL")
    redis_url = os.environ.get("RISITI_REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    with tempfile.TemporaryDirectory(prefix="risiti-test-") as home:
        try:
            servers = start_embedded_servers(Path(home))
        except EmbeddedServersNotInstalled as missing:
            # Every integration test needs the servers: one line, not one traceback per test.
            pytest.exit(str(missing), returncode=1)
        try:
            yield database_url or servers.database_url, redis_url or servers.redis_url
        finally:
            servers.stop()


class Mailbox:
    """A real SMTP server (aiosmtpd, in a thread) that keeps the email it receives; `refuse`
    maps an address to the replies its next RCPTs get instead of 250."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, list[str]] = {}
        self.port = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        replies = self.refuse.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        received = message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(received)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="session")
async def settings(server_urls: tuple[str, str], mailbox: Mailbox) -> AsyncIterator[Settings]:
    """Settings of this run: a fresh database, a queue of its own, and the test SMTP server."""
    server_url, redis_url = server_urls
    name = f"risiti_test_{secrets.token_hex(6)}"
    await create_database(server_url, name)
    run_settings = Settings(
        database_url=database_url_for(server_url, name),
        redis_url=redis_url,
        queue_name=f"risiti:test:{name}",
        poll_interval=0.2,
        webhook_retry_scale=0.01,
        public_url="http://risiti.test",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_tls="none",
        email_from="invoices@risiti.test",
        send_retry_scale=0.01,
        # Tests reach no network: Paystack's API stands at a closed local port (the discard
        # port), so a checkout the page starts fails as it would with Paystack unreachable.
        paystack_api_url="http://127.0.0.1:9",
        # Every request is counted in Redis as in production, at a limit no burst of a test
        # reaches (schemathesis sends hundreds a second); test_rate_limits.py tests the limit.
        rate_limit_per_second=10_000,
        # Projectors and workers started by the tests serve no metrics port unless a test gives
        # them a free one: runs sharing the machine would fight over the fixed defaults.
        projector_metrics_port=0,
        worker_metrics_port=0,
    )
    conn = await connect(run_settings, "test-migrate")
    await migrate(conn)
    await conn.close()
    try:
        yield run_settings
    finally:
        await drop_database(server_url, name)


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    db_pool = await create_pool(settings, "tests", max_size=20)
    yield db_pool
    await db_pool.close()


@pytest.fixture(scope="session")
def ledger(pool: asyncpg.Pool) -> Ledger:
    return Ledger(pool)


@pytest.fixture(scope="session")
async def http(settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    """The API over real HTTP on a local port."""
    async with serving(settings) as client:
        yield client


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    """An API process of its own, with these settings, over real HTTP on a local port."""
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def account(ledger: Ledger) -> OpenedAccount:
    """A fresh account per test, so that tests never see each other's data."""
    return await open_account(ledger, f"Test Business {secrets.token_hex(3)}")


class Api:
    """The HTTP API as a client with one key uses it."""

    def __init__(self, http: TestClient[Any, Any], key: str) -> None:
        self.http = http
        self.key = key

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(extra or {})}

    async def post(self, path: str, body: Any, **headers: str) -> tuple[int, dict[str, Any]]:
        response = await self.http.post(path, json=body, headers=self._headers(headers))
        return response.status, await response.json()

    async def get(self, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
        response = await self.http.get(path, params=params, headers=self._headers())
        return response.status, await response.json()


@pytest.fixture
def api(http: TestClient[Any, Any], account: OpenedAccount) -> Api:
    return Api(http, account.test_key)


KREDO_INVOICE = {
    "type": "invoice",
    "customer_name": "AfriTech Solutions",
    "customer_email": "billing@afritech.test",
    "items": [{"description": "Server Migration setup", "qty": 1, "price": 250000}],
    "status": "unpaid",
}


async def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:  # noqa: ASYNC109
    """Poll an async predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def running(coroutine: Any) -> AsyncIterator[asyncio.Task[Any]]:
    """Run a long-lived coroutine (projector, dispatcher, worker) for the duration of a block."""
    task = asyncio.create_task(coroutine)
    try:
        yield task
    finally:
        if task.done() and not task.cancelled() and task.exception():
            raise AssertionError("a background process failed") from task.exception()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def projector(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The projector (projections and dispatcher) running in this process during a test."""
    from arq import create_pool as create_redis_pool
    from arq.connections import RedisSettings

    from risiti.bootstrap import follow_log, projector_followers

    assert settings.redis_url is not None
    redis = await create_redis_pool(
        RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.queue_name
    )
    async with running(follow_log(settings, pool, projector_followers(settings, redis))):
        await wait_until(lambda: _followers_caught_up(pool), timeout=30)
        yield
    await redis.aclose()


async def _followers_caught_up(pool: asyncpg.Pool) -> bool:
    """Whether every follower of the log has applied all that is visible now: its position is
    the last event in log order, (transaction id, position), below the horizon."""
    behind: int = await pool.fetchval(
        "WITH last AS (SELECT transaction_id, position FROM events"
        "   WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
        "   ORDER BY transaction_id DESC, position DESC LIMIT 1)"
        " SELECT count(*) FROM (VALUES ('projection:invoice_list'), ('projection:balances'),"
        " ('dispatcher')) AS f(name) LEFT JOIN log_positions p ON p.follower = f.name"
        " WHERE EXISTS (SELECT 1 FROM last)"
        " AND (coalesce(p.transaction_id, '0'::xid8), coalesce(p.position, 0))"
        "   <> (SELECT transaction_id, position FROM last)"
    )
    return behind == 0


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[None]:
    """An ARQ worker running in this process during a test."""
    async with running_worker(settings):
        yield


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[None]:
    """An ARQ worker with these settings, running in this process for a block."""
    from arq import Worker

    from risiti.workers.settings import worker_settings

    arq_worker = Worker(**worker_settings(settings), handle_signals=False)
    async with running(arq_worker.async_run()):
        yield
    await stop_worker(arq_worker)


async def stop_worker(arq_worker: Any) -> None:
    """Stop a worker whose jobs may still be running (a test ends once it sees their effect):
    they are cancelled, as on a shutdown signal, and their cancellation is the expected end, not
    an error of the test (arq's `close` would raise it, and pytest would carry the failed
    teardown into the next tests)."""
    arq_worker.handle_sig(signal.SIGUSR1)
    await asyncio.gather(*arq_worker.tasks.values(), return_exceptions=True)
    arq_worker.tasks.clear()
    await arq_worker.close()


class Receiver:
    """A real HTTP server that records the webhooks it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.url = ""
        self.answer_after = 0.0
        """Seconds the receiver takes before answering: a slow receiver."""

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        self.received.append((dict(request.headers), await request.read()))
        await asyncio.sleep(self.answer_after)
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    from aiohttp import web

    recorder = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    recorder.url = str(server.make_url("/hooks"))
    yield recorder
    await server.close()
