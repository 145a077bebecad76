"""What every risiti process tells Prometheus (docs/operations.md, "Metrics").

Counters and histograms live in this process (prometheus-client's default registry, with its
process and platform collectors). What the database knows (how far each follower of the log is
behind, what it parked, the webhook backlog) is read at scrape time into gauges, so that every
api or projector process answers the same figures, and a restart loses none.

`risiti api --processes N` serves from N processes on one port, and a scrape reaches any one
of them: its parent gives them one PROMETHEUS_MULTIPROC_DIR (`shared_metrics_directory`), and
each scrape then adds up the counters and histograms of all N (prometheus-client's
multiprocess mode). Per-process figures (process_*) are then left out: they would describe
whichever process answered.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from risiti.eventstore.parked import ParkedCount, parked_counts
from risiti.eventstore.subscription import follower_lags, horizon_age_seconds

log = logging.getLogger(__name__)

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

# A `_created` twin of every counter doubles the series and says nothing an operator asks.
disable_created_metrics()  # type: ignore[no-untyped-call]

HTTP_REQUEST_DURATION = Histogram(
    "risiti_http_request_duration_seconds",
    "Time from a request's arrival to its response, by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
FOLLOWER_EVENTS_APPLIED = Counter(
    "risiti_follower_events_applied",
    "Events of the log a follower applied (a parked one is not counted).",
    ["follower"],
)
FOLLOWER_BATCH_DURATION = Histogram(
    "risiti_follower_batch_duration_seconds",
    "Time a follower took to apply one batch of the log.",
    ["follower"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
WEBHOOK_ATTEMPTS = Counter(
    "risiti_webhook_attempts",
    "Webhook delivery attempts by outcome: delivered, retrying (another attempt is scheduled),"
    " failed (none is left), disabled (the endpoint was disabled).",
    ["outcome"],
)
WEBHOOK_ATTEMPT_DURATION = Histogram(
    "risiti_webhook_attempt_duration_seconds",
    "Time a webhook receiver took to answer an attempt (or to fail it), by outcome.",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0),
)
WEBHOOK_DELIVERIES = Counter(
    "risiti_webhook_deliveries",
    "Webhook deliveries settled, by outcome: delivered or failed.",
    ["outcome"],
)
DOCUMENT_SENDS = Counter(
    "risiti_document_sends",
    "Attempts to send an invoice, by channel (email, sms) and outcome (sent, retrying, failed,"
    " cancelled).",
    ["channel", "outcome"],
)
JOBS = Counter(
    "risiti_jobs",
    "Worker jobs run, by job and outcome: succeeded, failed, retried, cancelled.",
    ["job", "outcome"],
)


def observe_batch(follower: str, events: int, seconds: float) -> None:
    """One batch of the projector's pipeline (eventstore/subscription.py): the events it gave
    this follower and the time the batch took, for every follower it fed."""
    FOLLOWER_BATCH_DURATION.labels(follower).observe(seconds)
    FOLLOWER_EVENTS_APPLIED.labels(follower).inc(events)


# What a scrape reads from the database: gauges, whoever asks.
ScrapeReading = Callable[[asyncpg.Pool], Awaitable[list[Metric]]]


async def follower_readings(pool: asyncpg.Pool) -> list[Metric]:
    """Each follower's lag and parked aggregates, and the xid horizon's age (DESIGN.md §8)."""
    lags = await follower_lags(pool)
    horizon_age = await horizon_age_seconds(pool)
    parked = await parked_counts(pool)
    families = {
        "lag_events": _gauge(
            "risiti_follower_lag_events", "Events of the log a follower has not applied yet."
        ),
        "lag_seconds": _gauge(
            "risiti_follower_lag_seconds", "Age of the oldest event a follower has not applied."
        ),
        "parked_aggregates": _gauge(
            "risiti_parked_aggregates",
            "Aggregates a follower could not apply and set aside (risiti parked lists them).",
        ),
        "parked_events": _gauge(
            "risiti_parked_events", "Events waiting in parked aggregates, the first included."
        ),
    }
    for lag in lags:
        count = parked.get(lag.follower, ParkedCount(lag.follower, 0, 0))
        families["lag_events"].add_metric([lag.follower], lag.events)
        families["lag_seconds"].add_metric([lag.follower], lag.seconds)
        families["parked_aggregates"].add_metric([lag.follower], count.aggregates)
        families["parked_events"].add_metric([lag.follower], count.events)
    horizon = GaugeMetricFamily(
        "risiti_xid_horizon_age_seconds",
        "Age of the oldest running transaction, which holds back what followers may read.",
        value=horizon_age,
    )
    return [*families.values(), horizon]


def _gauge(name: str, documentation: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=["follower"])


async def webhook_backlog_readings(pool: asyncpg.Pool) -> list[Metric]:
    """Webhook deliveries not settled yet, and those of them whose attempt is due now."""
    row = await pool.fetchrow(
        "SELECT count(*) AS pending, count(*) FILTER (WHERE next_attempt_at <= now()) AS due"
        " FROM webhook_deliveries WHERE status = 'pending'"
    )
    assert row is not None
    return [
        GaugeMetricFamily(
            "risiti_webhook_pending_deliveries",
            "Webhook deliveries neither delivered nor failed yet.",
            value=row["pending"],
        ),
        GaugeMetricFamily(
            "risiti_webhook_due_deliveries",
            "Pending webhook deliveries whose next attempt is due now (a backlog of workers).",
            value=row["due"],
        ),
    ]


class _Readings(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self._families)


def _process_registry() -> CollectorRegistry:
    if MULTIPROCESS_DIRECTORY not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


async def exposition(pool: asyncpg.Pool | None, *readings: ScrapeReading) -> bytes:
    """The Prometheus text of this process (or of all api processes), with these readings of
    the database."""
    read = CollectorRegistry(auto_describe=False)
    if pool is not None:
        read.register(_Readings([family for reading in readings for family in await reading(pool)]))
    return generate_latest(_process_registry()) + generate_latest(read)


def metrics_response(body: bytes) -> web.Response:
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


class MetricsServer:
    """/metrics on a port of its own, for the processes that serve no HTTP otherwise (the
    projector, the worker). A port that is taken is logged, and the process goes on without:
    its work matters more than its figures."""

    def __init__(self, pool: asyncpg.Pool | None, readings: tuple[ScrapeReading, ...]) -> None:
        self._pool = pool
        self._readings = readings
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)

    async def _metrics(self, _: web.Request) -> web.Response:
        return metrics_response(await exposition(self._pool, *self._readings))

    async def start(self, host: str, port: int) -> None:
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as error:
            log.error("cannot serve metrics on %s:%d: %s; going on without them", host, port, error)
            return
        log.info("metrics at http://%s:%d/metrics", host, port)

    async def close(self) -> None:
        await self._runner.cleanup()


async def serve_metrics(
    host: str, port: int, pool: asyncpg.Pool | None = None, *readings: ScrapeReading
) -> MetricsServer | None:
    """A started MetricsServer, or None when `port` is 0 (metrics turned off)."""
    if port == 0:
        return None
    server = MetricsServer(pool, readings)
    await server.start(host, port)
    return server


@contextmanager
def shared_metrics_directory() -> Iterator[dict[str, Any]]:
    """The environment of api processes sharing one port: one multiprocess directory, made for
    them and removed after (or the one the operator chose, kept)."""
    if MULTIPROCESS_DIRECTORY in os.environ:
        yield dict(os.environ)
        return
    with tempfile.TemporaryDirectory(prefix="risiti-metrics-") as directory:
        yield {**os.environ, MULTIPROCESS_DIRECTORY: directory}
