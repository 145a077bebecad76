"""Issue 12's race, over real HTTP for 20 s: stock adjustments against the stock jobs of invoices
issued on the same product. A stock job claims its row (taking its xid) before it reads the
product, so without the store's per-aggregate order (DESIGN.md §3) a product version could sort
before the one it follows and every follower would crash-loop on it."""

from __future__ import annotations

import asyncio
import random
import secrets
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
import pytest

from risiti.config import Settings

from .conftest import Api, _followers_caught_up, wait_until
from .http_calls import Answer, call
from .operator_runs import operator_env, replay_check

pytestmark = pytest.mark.asyncio

RACE_SECONDS = 20.0
INITIAL_STOCK = 1_000_000
SKU = "RICE-50"


@dataclass
class Tally:
    """What the clients were told was applied, and every answer they got."""

    adjusted: int = 0
    """The sum of the deltas applied."""
    adjustments: int = 0
    issued: int = 0
    """The units of the invoices issued."""
    invoices: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


def _headers(rng: random.Random) -> dict[str, str]:
    """Half the requests carry an Idempotency-Key: their command joins the key's transaction."""
    return {"Idempotency_Key": secrets.token_hex(8)} if rng.random() < 0.5 else {}


def _applied(answer: Answer, tally: Tally) -> bool:
    """Whether the answer says the write happened; a lost race may answer 412, nothing else."""
    tally.statuses.append(answer.status)
    if answer.status in (200, 201):
        return True
    assert answer.status == 412, answer.body
    assert answer.error["code"] == "version_conflict", answer.body
    return False


async def _adjusting(api: Api, product_id: str, until: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    while asyncio.get_running_loop().time() < until:
        delta = rng.choice([-3, -2, -1, 1, 2, 3, 4, 5])
        body = {"delta": delta, "reason": "recount"}
        path = f"/v1/products/{product_id}/adjustments"
        if _applied(await call(api, "POST", path, body, **_headers(rng)), tally):
            tally.adjusted += delta
            tally.adjustments += 1


async def _issuing(api: Api, until: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    while asyncio.get_running_loop().time() < until:
        quantity = rng.randint(1, 3)
        body = {"customer_name": "Ada", "items": [{"sku": SKU, "quantity": quantity}]}
        answer = await call(api, "POST", "/v1/invoices", body, **_headers(rng))
        if _applied(answer, tally):
            tally.issued += quantity
            tally.invoices.append(answer.data["id"])


async def _stock_jobs_done(pool: asyncpg.Pool, invoices: list[str]) -> bool:
    """Whether every invoice's deduction is done (found by the dispatcher, then by a worker)."""
    done: int = await pool.fetchval(
        "SELECT count(*) FROM inventory_jobs WHERE invoice_id = ANY($1::uuid[])"
        " AND kind = 'deduct' AND status = 'done'",
        [UUID(i) for i in invoices],
    )
    return done == len(invoices)


async def _versions_in_log_order(pool: asyncpg.Pool, product_id: str) -> list[int]:
    rows = await pool.fetch(
        "SELECT originator_version FROM events WHERE originator_id = $1"
        " ORDER BY transaction_id, position",
        UUID(product_id),
    )
    return [row["originator_version"] for row in rows]


async def test_stock_adjustments_racing_invoice_issues_keep_every_follower_running(
    api: Api, pool: asyncpg.Pool, settings: Settings, projector: None, worker: None
) -> None:
    created = await call(
        api,
        "POST",
        "/v1/products",
        {"sku": SKU, "name": "Rice, 50 kg", "unit_price": 7_500, "stock": INITIAL_STOCK},
    )
    assert created.status == 201, created.body
    product_id: str = created.data["id"]
    tally = Tally()
    until = asyncio.get_running_loop().time() + RACE_SECONDS

    await asyncio.gather(
        _adjusting(api, product_id, until, tally, seed=1),
        _adjusting(api, product_id, until, tally, seed=2),
        _issuing(api, until, tally, seed=3),
        _issuing(api, until, tally, seed=4),
    )

    assert tally.invoices and tally.adjustments, tally
    # A stock job that kept losing races is swept up again (every 5 s) until it is done.
    await wait_until(lambda: _stock_jobs_done(pool, tally.invoices), timeout=90, interval=0.5)
    # Followers that crash-loop would stay behind the log's end.
    await wait_until(lambda: _followers_caught_up(pool), timeout=60, interval=0.2)
    versions = await _versions_in_log_order(pool, product_id)
    assert versions == list(range(1, len(versions) + 1))
    stock = (await call(api, "GET", f"/v1/products/{product_id}")).data["stock"]
    assert stock == INITIAL_STOCK - tally.issued + tally.adjusted
    returncode, output = await replay_check(operator_env(settings), timeout=120)
    assert returncode == 0, output
    assert "no difference" in output
