"""Stock end to end (DESIGN.md §8): invoice issued → log → dispatcher → inventory job row →
ARQ worker → Product event; a void gives the units back; product events reach webhooks."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from arq import Worker
from redis.asyncio import Redis
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from risiti.config import Settings
from risiti.workers.inventory import inventory_job_id, move_invoice_stock
from risiti.workers.settings import worker_settings

from .conftest import Api, Receiver, running, stop_worker, wait_until
from .http_calls import call

pytestmark = pytest.mark.asyncio

PRODUCT_EVENTS = ["inventory.adjusted", "product.stock_low", "product.out_of_stock"]


async def _product(api: Api, **fields: Any) -> str:
    body = {"sku": "RICE-50", "name": "Rice, 50 kg", "unit_price": 7_500_000, "stock": 10}
    answer = await call(api, "POST", "/v1/products", body | fields)
    assert answer.status == 201, answer.body
    product_id: str = answer.data["id"]
    return product_id


async def _invoice(api: Api, quantity: int, **fields: Any) -> str:
    body = {"customer_name": "Ada", "items": [{"sku": "RICE-50", "quantity": quantity}]}
    answer = await call(api, "POST", "/v1/invoices", body | fields)
    assert answer.status == 201, answer.body
    invoice_id: str = answer.data["id"]
    return invoice_id


async def _stock(api: Api, product_id: str) -> int:
    stock: int = (await call(api, "GET", f"/v1/products/{product_id}")).data["stock"]
    return stock


async def _stock_becomes(api: Api, product_id: str, expected: int) -> None:
    async def reached() -> bool:
        return await _stock(api, product_id) == expected

    await wait_until(reached)


async def _job_done(pool: asyncpg.Pool, invoice_id: str, kind: str) -> bool:
    status = await pool.fetchval(
        "SELECT status FROM inventory_jobs WHERE id = $1",
        inventory_job_id(UUID(invoice_id), kind),
    )
    return bool(status == "done")


async def test_amending_an_issued_invoice_moves_stock_by_the_difference(
    api: Api, pool: asyncpg.Pool, projector: None, worker: None
) -> None:
    product_id = await _product(api)
    invoice_id = await _invoice(api, 3)
    await _stock_becomes(api, product_id, 7)

    for quantity, stock in ((5, 5), (1, 9)):
        answer = await call(
            api,
            "PATCH",
            f"/v1/invoices/{invoice_id}",
            {"items": [{"sku": "RICE-50", "quantity": quantity}]},
        )
        assert answer.status == 200, answer.body
        await _stock_becomes(api, product_id, stock)

    assert (await call(api, "POST", f"/v1/invoices/{invoice_id}/void", {})).status == 200
    await _stock_becomes(api, product_id, 10)
    amendment_jobs = await pool.fetchval(
        "SELECT count(*) FROM inventory_jobs WHERE invoice_id = $1 AND kind = 'amend'"
        " AND status = 'done'",
        UUID(invoice_id),
    )
    assert amendment_jobs == 2


async def test_issuing_takes_stock_once_and_a_void_gives_it_back(
    api: Api, pool: asyncpg.Pool, projector: None, worker: None
) -> None:
    product_id = await _product(api)
    invoice_id = await _invoice(api, 3, status="draft")
    assert (await call(api, "POST", f"/v1/invoices/{invoice_id}/finalize", {})).status == 200

    await _stock_becomes(api, product_id, 7)
    job = str(inventory_job_id(UUID(invoice_id), "deduct"))
    assert await move_invoice_stock({"pool": pool}, job) is False
    # Even a job row made pending again moves nothing: each line's movement is kept.
    await pool.execute("UPDATE inventory_jobs SET status = 'pending' WHERE id = $1", UUID(job))
    assert await move_invoice_stock({"pool": pool}, job) is True
    assert await _stock(api, product_id) == 7

    assert (await call(api, "POST", f"/v1/invoices/{invoice_id}/void", {})).status == 200
    await _stock_becomes(api, product_id, 10)
    await wait_until(lambda: _job_done(pool, invoice_id, "restore"))
    assert await _stock(api, product_id) == 10


async def test_a_receipt_takes_stock_when_issued(api: Api, projector: None, worker: None) -> None:
    product_id = await _product(api)

    await _invoice(api, 4, type="receipt")

    await _stock_becomes(api, product_id, 6)


async def test_a_voided_draft_and_an_untracked_product_leave_stock_alone(
    api: Api, pool: asyncpg.Pool, projector: None, worker: None
) -> None:
    product_id = await _product(api)
    await _product(api, sku="BAG", track_stock=False, stock=5)
    draft = await _invoice(api, 2, status="draft")
    await call(api, "POST", f"/v1/invoices/{draft}/void", {})
    untracked = await call(
        api, "POST", "/v1/invoices", {"customer_name": "Ada", "items": [{"sku": "BAG"}]}
    )

    await wait_until(lambda: _job_done(pool, untracked.data["id"], "deduct"))
    assert await _stock(api, product_id) == 10
    listed = (await call(api, "GET", "/v1/products")).data
    assert {p["sku"]: p["stock"] for p in listed} == {"RICE-50": 10, "BAG": 5}


async def test_a_sale_beyond_stock_stops_at_zero_and_a_void_gives_back_only_what_it_took(
    api: Api, pool: asyncpg.Pool, projector: None, worker: None
) -> None:
    product_id = await _product(api, stock=2)
    invoice_id = await _invoice(api, 5)
    await _stock_becomes(api, product_id, 0)
    await call(
        api, "POST", f"/v1/products/{product_id}/adjustments", {"delta": 4, "reason": "restock"}
    )

    await call(api, "POST", f"/v1/invoices/{invoice_id}/void", {})

    await wait_until(lambda: _job_done(pool, invoice_id, "restore"))
    assert await _stock(api, product_id) == 6


async def test_where_the_account_allows_it_a_sale_takes_stock_below_zero(
    api: Api, projector: None, worker: None
) -> None:
    await call(api, "PATCH", "/v1/account", {"allow_negative_stock": True})
    product_id = await _product(api, stock=2)

    await _invoice(api, 5)

    await _stock_becomes(api, product_id, -3)


async def test_a_lost_wake_up_only_delays_the_deduction(
    api: Api, pool: asyncpg.Pool, settings: Settings, projector: None
) -> None:
    product_id = await _product(api)
    invoice_id = await _invoice(api, 3)
    await wait_until(lambda: _job_row(pool, invoice_id))
    assert settings.redis_url is not None
    redis = Redis.from_url(settings.redis_url)

    async def woken() -> bool:
        return bool(await redis.zcard(settings.queue_name))

    await wait_until(woken)
    await redis.delete(settings.queue_name)  # the wake-up is lost; the row is not
    await redis.aclose()
    assert await _stock(api, product_id) == 10

    arq_worker = Worker(**worker_settings(settings), handle_signals=False)
    async with running(arq_worker.async_run()):
        await _stock_becomes(api, product_id, 7)
    await stop_worker(arq_worker)


async def test_a_void_processed_before_its_deduction_leaves_stock_whole(
    api: Api, pool: asyncpg.Pool, projector: None
) -> None:
    product_id = await _product(api)
    invoice_id = await _invoice(api, 3)
    await call(api, "POST", f"/v1/invoices/{invoice_id}/void", {})

    async def both_jobs() -> bool:
        return await _job_row(pool, invoice_id, count=2)

    await wait_until(both_jobs)
    invoice = UUID(invoice_id)
    assert await move_invoice_stock({"pool": pool}, str(inventory_job_id(invoice, "restore")))
    assert await move_invoice_stock({"pool": pool}, str(inventory_job_id(invoice, "deduct")))

    assert await _stock(api, product_id) == 10


async def _job_row(pool: asyncpg.Pool, invoice_id: str, count: int = 1) -> bool:
    found: int = await pool.fetchval(
        "SELECT count(*) FROM inventory_jobs WHERE invoice_id = $1", UUID(invoice_id)
    )
    return found >= count


async def test_product_events_reach_each_matching_endpoint_once_signed(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    secrets = {
        "all": await _register(api, receiver, PRODUCT_EVENTS),
        "only_out": await _register(api, receiver, ["product.out_of_stock"]),
    }
    product_id = await _product(api, stock=5, low_stock_threshold=3)

    await _invoice(api, 2)  # 5 → 3: adjusted, stock_low
    await _stock_becomes(api, product_id, 3)
    await call(api, "POST", f"/v1/products/{product_id}/adjustments", {"delta": -3})  # → 0

    await wait_until(lambda: _received(receiver, 5))
    await asyncio.sleep(1)
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for headers, body in receiver.received:
        # Each endpoint signs with its own secret: the one that verifies says which it was.
        for endpoint, secret in secrets.items():
            with contextlib.suppress(WebhookVerificationError):
                by_endpoint.setdefault(endpoint, []).append(Webhook(secret).verify(body, headers))

    assert sorted((p["event"], p["data"]["stock"]) for p in by_endpoint["all"]) == [
        ("inventory.adjusted", 0),
        ("inventory.adjusted", 3),
        ("product.out_of_stock", 0),
        ("product.stock_low", 3),
    ]
    assert [(p["event"], p["data"]["id"]) for p in by_endpoint["only_out"]] == [
        ("product.out_of_stock", product_id)
    ]
    _, feed = await api.get("/v1/events", type="product.stock_low")
    assert [e["data"]["sku"] for e in feed["data"]] == ["RICE-50"]


async def _register(api: Api, receiver: Receiver, events: list[str]) -> str:
    answer = await call(
        api, "POST", "/v1/webhook-endpoints", {"url": receiver.url, "events": events}
    )
    assert answer.status == 201, answer.body
    secret: str = answer.data["secret"]
    return secret


async def _received(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count
