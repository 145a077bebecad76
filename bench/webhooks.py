"""Webhook delivery throughput: deliveries per second from `risiti worker` processes to a local
receiver.

What it measures: N pending deliveries (each an `invoice.paid` payload with a whole invoice, as
the dispatcher writes them) are queued as the dispatcher queues them (a job per 20), then W
`risiti worker` processes (2 by default, ARQ's 10 jobs each) deliver them to a receiver in
another process. Every delivery is claimed, its payload signed (Standard Webhooks), POSTed, its
attempt logged and its row settled. The rate is counted between the first and the last attempt
the workers logged, so process start-up is not in it.

The reference, measured in the same run against the same receiver: one plain aiohttp client
POSTing the same signed payloads with the workers' greatest concurrency (W x 10 jobs x 20),
and nothing else. The ratio says what the delivery machinery costs on top of HTTP itself;
absolute rates depend on the machine and whatever else runs on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from multiprocessing.sharedctypes import Synchronized
from uuid import UUID, uuid4

import aiohttp
import asyncpg
from aiohttp import web
from arq import create_pool
from arq.connections import RedisSettings

from common import bounded, failing_clearly, scratch_database
from risiti.cli import ProgressLine
from risiti.commands.accounts import open_account
from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.commands.webhook_endpoints import RegisterWebhookEndpoint, register_webhook_endpoint
from risiti.eventstore.migrations import migrate
from risiti.eventstore.outbox import current_webhook_secrets
from risiti.workers.jobs import DELIVERIES_PER_JOB, enqueue_deliveries
from risiti.workers.signing import signature_header

JOBS_PER_WORKER = 10  # ARQ's default max_jobs


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=5000, help="(default 5000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    return parser.parse_args()


# --- The receiver ----------------------------------------------------------------------------


def serve_receiver(port: int, received: Synchronized[int]) -> None:
    """A receiver in its own process: answers 200 and counts."""

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        with received.get_lock():
            received.value += 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_for_port(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the receiver did not start")


# --- The deliveries --------------------------------------------------------------------------


def payload(number: int) -> str:
    """An invoice.paid payload of realistic size (a whole invoice as `data`)."""
    items = [
        {"description": f"Item {i}", "quantity": 2, "unit_price": 150000, "amount": 300000}
        for i in range(5)
    ]
    return json.dumps(
        {
            "id": f"evt_bench_{number}",
            "event": "invoice.paid",
            "environment": "test",
            "created_at": "2026-11-21T08:00:00+00:00",
            "data": {
                "id": str(uuid4()),
                "document_number": f"INV-2026-{number:06d}",
                "status": "paid",
                "currency": "NGN",
                "items": items,
                "total": 1500000,
                "amount_paid": 1500000,
                "amount_due": 0,
            },
        }
    )


async def prepare(url: str, receiver_url: str, deliveries: int) -> tuple[list[str], list[str]]:
    """An account, its endpoint, and `deliveries` pending rows; returns their ids and the
    endpoint's secrets."""
    conn = await asyncpg.connect(url)
    await migrate(conn)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        ledger = Ledger(pool)
        account = await open_account(ledger, "Bench Webhooks")
        caller = Caller(account.account_id, False, "bench")
        endpoint, _ = await register_webhook_endpoint(
            ledger,
            RegisterWebhookEndpoint(caller, receiver_url, ["*"], allow_loopback_in_test=True),
        )
        await conn.execute(
            "INSERT INTO webhook_endpoints (id, account_id, livemode, url, events, enabled)"
            " VALUES ($1, $2, false, $3, $4, true)",
            endpoint.id,
            account.account_id,
            receiver_url,
            ["*"],
        )
        ids = [uuid4() for _ in range(deliveries)]
        await conn.executemany(
            "INSERT INTO webhook_deliveries (id, endpoint_id, account_id, livemode, event_type,"
            " payload) VALUES ($1, $2, $3, false, 'invoice.paid', $4)",
            [(i, endpoint.id, account.account_id, payload(n)) for n, i in enumerate(ids)],
        )
        secrets = await current_webhook_secrets(pool, endpoint.id)
    finally:
        await pool.close()
        await conn.close()
    return [str(i) for i in ids], secrets


async def enqueue_all(redis_url: str, queue: str, ids: list[str]) -> None:
    redis = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=queue)
    try:
        # As the dispatcher does: a job per DELIVERIES_PER_JOB new deliveries.
        await enqueue_deliveries(redis, [UUID(delivery_id) for delivery_id in ids])
    finally:
        await redis.aclose()


def start_workers(
    url: str, redis_url: str, queue: str, count: int
) -> list[subprocess.Popen[bytes]]:
    env = os.environ | {
        "RISITI_DATABASE_URL": url,
        "RISITI_REDIS_URL": redis_url,
        "RISITI_QUEUE_NAME": queue,
        "RISITI_WEBHOOK_ALLOW_LOOPBACK_IN_TEST_MODE": "true",
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "risiti.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


async def wait_delivered(url: str, total: int) -> float:
    """Deliveries per second between the first and the last attempt the workers logged."""
    progress = ProgressLine("risiti")
    conn = await asyncpg.connect(url)
    try:
        while True:
            done = await conn.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'"
            )
            progress(done, total)
            if done >= total:
                break
            await asyncio.sleep(0.5)
        first, last = await conn.fetchrow(
            "SELECT min(attempted_at), max(attempted_at) FROM webhook_attempts"
        )
    finally:
        await conn.close()
    print(file=sys.stderr)
    return total / max((last - first).total_seconds(), 1e-9)


async def reference(receiver_url: str, secrets: list[str], total: int, concurrency: int) -> float:
    """The same signed payloads, POSTed by one plain client with the same concurrency."""
    progress = ProgressLine("aiohttp")
    bodies = [payload(n) for n in range(total)]
    sent = 0
    async with aiohttp.ClientSession() as http:

        async def post(number: int) -> None:
            nonlocal sent
            body = bodies[number].encode()
            message_id = f"msg_{number}"
            timestamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature_header(secrets, message_id, timestamp, body),
            }
            async with http.post(receiver_url, data=body, headers=headers) as response:
                await response.read()
            sent += 1
            progress(sent, total)

        queue = iter(range(total))

        async def client() -> None:
            for number in queue:
                await post(number)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    return total / elapsed


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def main() -> None:
    args = parse_args()
    redis_url = os.environ.get("RISITI_REDIS_URL", "redis://127.0.0.1:6379/0")
    queue = f"risiti:bench:{uuid4().hex[:8]}"
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}/hooks"
    context = multiprocessing.get_context("spawn")
    received = context.Value("q", 0)
    receiver = context.Process(target=serve_receiver, args=(port, received), daemon=True)
    receiver.start()
    # Each phase's bound: minutes more than it takes at 100 deliveries/s.
    bound = 120 + args.deliveries / 100
    try:
        with failing_clearly():
            with bounded("the receiver starting", 60):
                asyncio.run(wait_for_port(port))
            with scratch_database() as url:
                with bounded("preparing and enqueueing the deliveries", bound):
                    ids, secrets = asyncio.run(prepare(url, receiver_url, args.deliveries))
                    asyncio.run(enqueue_all(redis_url, queue, ids))
                workers = start_workers(url, redis_url, queue, args.workers)
                try:
                    with bounded("risiti's workers delivering", bound):
                        ours = asyncio.run(wait_delivered(url, args.deliveries))
                finally:
                    stop_workers(workers)
            concurrency = args.workers * JOBS_PER_WORKER * DELIVERIES_PER_JOB
            with bounded("the aiohttp reference", bound):
                theirs = asyncio.run(reference(receiver_url, secrets, args.deliveries, concurrency))
    finally:
        receiver.terminate()
        receiver.join()
    print(
        f"risiti   {ours:>9,.0f} deliveries/s ({args.workers} workers x {JOBS_PER_WORKER} jobs"
        f" x {DELIVERIES_PER_JOB} deliveries)\n"
        f"aiohttp  {theirs:>9,.0f} posts/s (one client, concurrency {concurrency})\n"
        f"ratio: {ours / theirs:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
