"""Operators see what every process does (issue 16, docs/operations.md "Logs" and "Metrics"):
each process's /metrics is Prometheus text that Prometheus' own parser reads, with the series
the docs list; and the api's JSON access log names each request by the id its client saw."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import aiohttp
import asyncpg
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from risiti.bootstrap import follow_log
from risiti.config import Settings
from risiti.projections.runner import projection_followers

from .conftest import KREDO_INVOICE, Api, Receiver, running, running_worker, wait_until
from .operator_runs import operator_env
from .ports import free_port

FOLLOWERS = ("projection:invoice_list", "projection:balances", "dispatcher")


class Scrape:
    """One /metrics answer, as Prometheus' parser reads it."""

    def __init__(self, text: str) -> None:
        self.families = {family.name: family for family in text_string_to_metric_families(text)}

    def type_of(self, family: str) -> str:
        return self.families[family].type

    def samples(self, name: str, **labels: str) -> list[Sample]:
        return [
            sample
            for family in self.families.values()
            for sample in family.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        ]

    def value(self, name: str, **labels: str) -> float:
        return sum(sample.value for sample in self.samples(name, **labels))


async def _scrape(url: str) -> Scrape:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        return Scrape(await response.text())


async def _api_scrape(http: TestClient[Any, Any]) -> Scrape:
    response = await http.get("/metrics")
    assert response.status == 200
    return Scrape(await response.text())


async def test_api_metrics_parse_with_the_http_histogram_by_route_method_and_status(
    api: Api, http: TestClient[Any, Any], projector: None
) -> None:
    status, created = await api.post("/v1/invoices", KREDO_INVOICE)
    assert status == 201
    assert (await api.get(f"/v1/invoices/{created['data']['id']}"))[0] == 200
    assert (await api.get("/v1/invoices/INV-1999-9999"))[0] == 404
    assert (await api.get("/v1/no/such/thing"))[0] == 404

    scrape = await _api_scrape(http)

    histogram = "risiti_http_request_duration_seconds"
    assert scrape.type_of(histogram) == "histogram"
    count = f"{histogram}_count"
    assert scrape.value(count, route="/v1/invoices", method="POST", status="201") >= 1
    assert scrape.value(count, route="/v1/invoices/{id}", method="GET", status="200") >= 1
    assert scrape.value(count, route="/v1/invoices/{id}", method="GET", status="404") >= 1
    # Any path no route matches counts under one label, never under the path itself.
    assert scrape.value(count, route="unmatched", method="GET", status="404") >= 1
    assert not scrape.samples(count, route="/v1/no/such/thing")
    assert scrape.samples(f"{histogram}_bucket", route="/v1/invoices", le="+Inf")


async def test_api_metrics_keep_the_follower_and_parked_series_and_add_the_webhook_backlog(
    api: Api, http: TestClient[Any, Any], projector: None, receiver: Receiver
) -> None:
    status, _ = await api.post(
        "/v1/webhook-endpoints", {"url": receiver.url, "events": ["invoice.created"]}
    )
    assert status == 201
    # No worker runs: the delivery the dispatcher writes stays pending, and due.
    await api.post("/v1/invoices", KREDO_INVOICE)

    async def backlog() -> Scrape | None:
        scrape = await _api_scrape(http)
        return scrape if scrape.value("risiti_webhook_due_deliveries") >= 1 else None

    scrape = await wait_until(backlog)

    for name in (
        "risiti_follower_lag_events",
        "risiti_follower_lag_seconds",
        "risiti_parked_aggregates",
        "risiti_parked_events",
    ):
        assert scrape.type_of(name) == "gauge"
        assert {s.labels["follower"] for s in scrape.samples(name)} >= set(FOLLOWERS)
    assert scrape.type_of("risiti_xid_horizon_age_seconds") == "gauge"
    assert scrape.value("risiti_webhook_pending_deliveries") >= scrape.value(
        "risiti_webhook_due_deliveries"
    )
    # prometheus-client's own process collector: the api's memory and CPU.
    assert scrape.value("process_resident_memory_bytes") > 0


async def test_the_projector_serves_events_applied_batch_times_lag_and_parked_on_its_port(
    settings: Settings, pool: asyncpg.Pool, api: Api
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    follower = "projection:invoice_list"
    own_port = settings.model_copy(update={"projector_metrics_port": port})
    async with running(follow_log(own_port, pool, projection_followers())):
        before = (await wait_until(lambda: _reachable(url))).value(
            "risiti_follower_events_applied_total", follower=follower
        )
        await api.post("/v1/invoices", KREDO_INVOICE)

        async def applied() -> Scrape | None:
            scrape = await _scrape(url)
            total = scrape.value("risiti_follower_events_applied_total", follower=follower)
            return scrape if total > before else None

        scrape = await wait_until(applied)

    assert scrape.type_of("risiti_follower_events_applied") == "counter"
    assert scrape.type_of("risiti_follower_batch_duration_seconds") == "histogram"
    assert scrape.value("risiti_follower_batch_duration_seconds_count", follower=follower) >= 1
    assert scrape.samples("risiti_follower_lag_events", follower=follower)
    assert scrape.samples("risiti_parked_aggregates", follower=follower)
    assert scrape.value("process_resident_memory_bytes") > 0


async def _reachable(url: str) -> Scrape | None:
    try:
        return await _scrape(url)
    except aiohttp.ClientConnectionError:
        return None


async def test_the_worker_serves_webhook_attempts_by_outcome_and_jobs_on_its_port(
    settings: Settings, api: Api, projector: None, receiver: Receiver
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    status, _ = await api.post(
        "/v1/webhook-endpoints", {"url": receiver.url, "events": ["invoice.created"]}
    )
    assert status == 201
    receiver.statuses = [500]  # the first attempt fails, the next one is delivered
    async with running_worker(settings.model_copy(update={"worker_metrics_port": port})):
        before = await wait_until(lambda: _reachable(url))
        await api.post("/v1/invoices", KREDO_INVOICE)

        def more(scrape: Scrape, name: str, **labels: str) -> bool:
            return scrape.value(name, **labels) > before.value(name, **labels)

        async def delivered() -> Scrape | None:
            scrape = await _scrape(url)
            done = more(scrape, "risiti_webhook_attempts_total", outcome="delivered")
            return scrape if done else None

        scrape = await wait_until(delivered, timeout=30)

    assert more(scrape, "risiti_webhook_attempts_total", outcome="retrying")
    assert more(scrape, "risiti_webhook_deliveries_total", outcome="delivered")
    assert scrape.type_of("risiti_webhook_attempt_duration_seconds") == "histogram"
    assert more(scrape, "risiti_webhook_attempt_duration_seconds_count", outcome="delivered")
    assert more(scrape, "risiti_jobs_total", job="deliver_webhooks", outcome="succeeded")
    assert scrape.value("process_resident_memory_bytes") > 0


async def test_a_json_access_log_line_carries_the_request_id_the_response_shows(
    settings: Settings, api: Api
) -> None:
    port = free_port()
    env = operator_env(settings, RISITI_LOG_FORMAT="json")
    command = [sys.executable, "-m", "risiti.cli", "api", "--port", str(port)]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until(lambda: _answers(f"{base}/healthz"), timeout=60)
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{base}/v1/invoices", headers={"Authorization": f"Bearer {api.key}"}
            ) as response,
        ):
            assert response.status == 200
            request_id = response.headers["Request-Id"]
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    text = stderr.decode()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    [line] = [line for line in lines if line.get("request_id") == request_id]
    assert line["logger"] == "risiti.access"
    assert line["level"] == "INFO"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/invoices", 200)
    assert line["duration_ms"] >= 0
    assert "timestamp" in line
    assert line["key_id"] == "key_test_" + api.key.removeprefix("sk_test_")[:8]
    assert api.key not in text
    assert api.key.removeprefix("sk_test_") not in text


async def test_api_processes_sharing_a_port_answer_each_scrape_for_all_of_them(
    settings: Settings,
) -> None:
    port = free_port()
    env = operator_env(settings)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "risiti.cli", "api", "--processes", "2", "--port", str(port)]
    process = await asyncio.create_subprocess_exec(*command, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until(lambda: _answers(f"{base}/healthz"), timeout=60)
        async with aiohttp.ClientSession() as http:
            for _ in range(30):
                async with http.get(f"{base}/healthz") as response:
                    assert response.status == 200
        # The kernel spreads connections over both processes; whichever answers a scrape
        # counts the requests of both.
        scrapes = [await _scrape(f"{base}/metrics") for _ in range(6)]
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
    count = "risiti_http_request_duration_seconds_count"
    for scrape in scrapes:
        assert scrape.value(count, route="/healthz", status="200") >= 31
        assert not scrape.samples("process_resident_memory_bytes")


async def _answers(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False
