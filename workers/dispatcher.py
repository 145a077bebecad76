"""The dispatcher: reads the log like a projection and turns events into delivery rows.

In one transaction it keeps its copy of the endpoints, inserts a `webhook_deliveries` row per
(event, endpoint) — its id derived from both, so a batch applied again inserts nothing — and
moves its position. Only after commit does it enqueue ARQ jobs: PostgreSQL holds the work, Redis
only wakes workers, and the sweeper re-enqueues whatever a lost Redis write left behind.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg
from arq.connections import ArqRedis

from risiti.commands.ledger import A, apply_recorded, rebuild
from risiti.commands.public_events import invoice_event_payload, invoice_event_types
from risiti.config import Settings
from risiti.domain.invoice import Invoice
from risiti.domain.webhook_endpoint import WebhookEndpoint
from risiti.eventstore.mapper import create_mapper
from risiti.eventstore.recorder import RecordedEvent, read_aggregate
from risiti.eventstore.subscription import LogWakeups, process_next_batch
from risiti.workers.jobs import enqueue_delivery

log = logging.getLogger(__name__)

FOLLOWER = "dispatcher"
_DELIVERY_NAMESPACE = uuid5(NAMESPACE_URL, "risiti:webhook-deliveries")


def delivery_id(event_id: str, endpoint_id: UUID) -> UUID:
    return uuid5(_DELIVERY_NAMESPACE, f"{event_id}:{endpoint_id}")


class Dispatcher:
    """Turns committed events into webhook delivery rows, then wakes the workers."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, redis: ArqRedis) -> None:
        self.settings = settings
        self.pool = pool
        self.redis = redis
        self._mapper = create_mapper()
        self._new_deliveries: list[UUID] = []

    async def run(self) -> None:
        """Dispatch until cancelled."""
        async with LogWakeups(self.settings, "dispatcher") as wakeups:
            while True:
                if await self.dispatch_next_batch() < 500:
                    await wakeups.wait()

    async def dispatch_next_batch(self) -> int:
        self._new_deliveries = []
        applied = await process_next_batch(self.pool, FOLLOWER, self._handle_batch)
        for new_delivery in self._new_deliveries:
            await enqueue_delivery(self.redis, new_delivery, attempt=0)
        return applied

    async def _handle_batch(self, conn: asyncpg.Connection, batch: list[RecordedEvent]) -> None:
        for event in batch:
            if event.topic.startswith(_topic_prefix(WebhookEndpoint)):
                await self._track_endpoint(conn, event)
            elif event.topic.startswith(_topic_prefix(Invoice)):
                await self._dispatch_invoice_event(conn, event)

    async def _track_endpoint(self, conn: asyncpg.Connection, event: RecordedEvent) -> None:
        endpoint = await self._load(conn, WebhookEndpoint, event)
        await conn.execute(
            "INSERT INTO webhook_endpoints (id, account_id, livemode, url, events, enabled)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET url = $4,"
            " events = $5, enabled = $6",
            endpoint.id,
            endpoint.account_id,
            endpoint.livemode,
            endpoint.url,
            endpoint.events,
            endpoint.enabled,
        )

    async def _dispatch_invoice_event(self, conn: asyncpg.Connection, event: RecordedEvent) -> None:
        records = await read_aggregate(
            conn, event.originator_id, up_to_version=event.originator_version
        )
        invoice: Any = None
        for record in records[:-1]:
            invoice = apply_recorded(self._mapper, record, invoice)
        status_before = getattr(invoice, "status", None)
        last_event = self._mapper.to_domain_event(records[-1].as_stored_event())
        invoice = apply_recorded(self._mapper, records[-1], invoice)
        for event_type in invoice_event_types(last_event, status_before, invoice):
            payload = invoice_event_payload(
                event_type,
                invoice,
                recorded_at=event.recorded_at,
                base_url=self.settings.base_url,
            )
            await self._insert_deliveries(conn, invoice.account_id, invoice.livemode, payload)

    async def _insert_deliveries(
        self, conn: asyncpg.Connection, account_id: UUID, livemode: bool, payload: dict[str, Any]
    ) -> None:
        endpoints = await conn.fetch(
            "SELECT id FROM webhook_endpoints WHERE account_id = $1 AND livemode = $2"
            " AND enabled AND ($3 = ANY(events) OR '*' = ANY(events))",
            account_id,
            livemode,
            payload["event"],
        )
        body = json.dumps(payload)
        for endpoint in endpoints:
            new_id = delivery_id(payload["id"], endpoint["id"])
            inserted = await conn.fetchval(
                "INSERT INTO webhook_deliveries (id, endpoint_id, account_id, livemode,"
                " event_type, payload) VALUES ($1, $2, $3, $4, $5, $6)"
                " ON CONFLICT (id) DO NOTHING RETURNING id",
                new_id,
                endpoint["id"],
                account_id,
                livemode,
                payload["event"],
                body,
            )
            if inserted:
                self._new_deliveries.append(new_id)

    async def _load(self, conn: asyncpg.Connection, cls: type[A], event: RecordedEvent) -> A:
        records = await read_aggregate(
            conn, event.originator_id, up_to_version=event.originator_version
        )
        return rebuild(self._mapper, cls, event.originator_id, records)


def _topic_prefix(cls: type[Any]) -> str:
    return f"{cls.__module__}:{cls.__qualname__}."
