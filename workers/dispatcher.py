"""The dispatcher: follows the log like a projection and turns events into delivery rows.

It also inserts a `document_sends` row per channel of each send request (workers/sending.py),
enqueued the same way.

In one transaction it keeps its copy of the endpoints, adds each public event to the account's
feed (`account_events`, read by `GET /v1/events`), inserts a `webhook_deliveries` row per
(event, endpoint) — its id derived from both, so a batch applied again inserts nothing — and
moves its position. Only after commit does it enqueue ARQ jobs: PostgreSQL holds the work, Redis
only wakes workers, and the sweeper re-enqueues whatever a lost Redis write left behind.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from arq.connections import ArqRedis

from risiti.commands.webhook_endpoints import (
    TEST_EVENT,
    callback_signing_secret,
    webhook_endpoint_event_payload,
)
from risiti.config import Settings
from risiti.domain.customer import Customer
from risiti.domain.invoice import Invoice
from risiti.domain.product import Product
from risiti.domain.stock import stock_moves_on
from risiti.domain.webhook_endpoint import KREDO, RISITI, WebhookEndpoint, subscribes_to
from risiti.eventstore import outbox
from risiti.eventstore.feed import FeedEntry, add_to_feed
from risiti.eventstore.folding import Folded
from risiti.presentation.kredo_events import kredo_event_body
from risiti.presentation.public_events import (
    CALLBACK_EVENTS,
    callback_signer_id,
    customer_event_payload,
    delivery_id,
    invoice_callback_id,
    invoice_event_payload,
    invoice_event_types,
    product_event_payloads,
)
from risiti.workers.inventory import enqueue_inventory_job, inventory_job_id
from risiti.workers.jobs import enqueue_deliveries
from risiti.workers.sending import (
    SEND_REQUESTS,
    SendRow,
    document_sends_of,
    enqueue_send,
    insert_document_sends,
)

log = logging.getLogger(__name__)

FOLLOWER = "dispatcher"


Work = Callable[[asyncpg.Connection], Awaitable[None]]


class Dispatcher:
    """Turns committed events into webhook delivery rows, then wakes the workers: a follower
    of the log (eventstore/subscription.py), fed by the projector's one fold of each batch."""

    name = FOLLOWER
    topics: tuple[str, ...]

    def __init__(self, settings: Settings, redis: ArqRedis) -> None:
        self.settings = settings
        self.redis = redis
        self.topics = _TOPICS

    def begin(self) -> Dispatch:
        return Dispatch(self.settings, self.redis)


class Dispatch:
    """What the dispatcher does with one batch: the rows each event calls for, worked out as
    the event is folded (the aggregate as it is just after it), inserted by `write`, in log
    order, and the workers woken for the new ones after commit."""

    def __init__(self, settings: Settings, redis: ArqRedis) -> None:
        self.settings = settings
        self.redis = redis
        self._work: list[Work] = []
        self._new_deliveries: list[UUID] = []
        self._new_sends: list[UUID] = []
        self._new_inventory_jobs: list[UUID] = []

    def add(self, folded: Folded) -> None:
        aggregate = folded.aggregate
        if isinstance(aggregate, WebhookEndpoint):
            self._track_endpoint(aggregate, folded.event)
            if isinstance(folded.event, WebhookEndpoint.TestRequested):
                self._send_test_event(aggregate, folded)
        if isinstance(aggregate, Invoice) and isinstance(folded.event, SEND_REQUESTS):
            rows = document_sends_of(aggregate)
            self._work.append(lambda conn: self._insert_document_sends(conn, rows))
        for payload in self._payloads(folded):
            body = json.dumps(payload)
            bodies = {RISITI: body} | _other_formats(aggregate, payload)
            self._publish(*_owner(aggregate), payload, bodies)
            if isinstance(aggregate, Invoice):
                self._call_back(aggregate, payload, body)
        if isinstance(aggregate, Invoice):
            self._insert_inventory_job(folded.event, aggregate)

    async def write(self, conn: asyncpg.Connection) -> None:
        for work in self._work:
            await work(conn)

    async def after_commit(self) -> None:
        await enqueue_deliveries(self.redis, self._new_deliveries)
        for new_send in self._new_sends:
            await enqueue_send(self.redis, new_send, attempt=0)
        for new_job in self._new_inventory_jobs:
            await enqueue_inventory_job(self.redis, new_job)

    async def _insert_document_sends(self, conn: asyncpg.Connection, rows: list[SendRow]) -> None:
        self._new_sends += await insert_document_sends(conn, rows)

    def _payloads(self, folded: Folded) -> list[dict[str, Any]]:
        """The public events one event fires, with the aggregate as it is just after it."""
        aggregate, recorded_at = folded.aggregate, folded.record.recorded_at
        if isinstance(aggregate, Invoice):
            return [
                invoice_event_payload(
                    event_type, aggregate, recorded_at=recorded_at, base_url=self.settings.base_url
                )
                for event_type in invoice_event_types(folded.event, folded.status_before, aggregate)
            ]
        if isinstance(aggregate, Customer) and isinstance(folded.event, Customer.Created):
            return [customer_event_payload("customer.created", aggregate, recorded_at=recorded_at)]
        if isinstance(aggregate, WebhookEndpoint) and isinstance(
            folded.event, WebhookEndpoint.Disabled
        ):
            return [
                webhook_endpoint_event_payload(
                    "webhook_endpoint.disabled", aggregate, recorded_at=recorded_at
                )
            ]
        if isinstance(aggregate, Product):
            return product_event_payloads(folded.event, aggregate, recorded_at=recorded_at)
        return []

    def _insert_inventory_job(self, event: object, invoice: Invoice) -> None:
        """An inventory job for each event on which stock moves (`stock_moves_on`)."""
        kind = stock_moves_on(event, invoice)
        if kind is None:
            return
        job_id, invoice_id = inventory_job_id(invoice.id, kind, invoice.version), invoice.id

        async def insert(conn: asyncpg.Connection) -> None:
            if await outbox.insert_inventory_job(conn, job_id, invoice_id, kind):
                self._new_inventory_jobs.append(job_id)

        self._work.append(insert)

    def _track_endpoint(self, endpoint: WebhookEndpoint, event: object) -> None:
        """Keep the copy in step with the log: url, events and enabled as changed, so that a
        disabled or deleted endpoint gets no new deliveries."""
        stops = not endpoint.enabled and _disables(event)
        copy = (
            endpoint.id,
            endpoint.account_id,
            endpoint.livemode,
            endpoint.url,
            list(endpoint.events),
            endpoint.enabled,
            endpoint.payload_format,
        )

        async def track(conn: asyncpg.Connection) -> None:
            if stops:
                # Nor the retries still pending: an explicit retry or recover sends them again.
                await outbox.stop_pending_deliveries(conn, copy[0])
            await outbox.keep_endpoint_copy(conn, *copy)

        self._work.append(track)

    def _send_test_event(self, endpoint: WebhookEndpoint, folded: Folded) -> None:
        """A test event goes to its endpoint alone, and not into the account's feed."""
        payload = webhook_endpoint_event_payload(
            TEST_EVENT, endpoint, recorded_at=folded.record.recorded_at
        )
        owner = endpoint.id, endpoint.account_id, endpoint.livemode
        # In Risiti's format whatever the endpoint's: it is a test, not an event of Kredo's.
        self._work.append(
            lambda conn: self._insert_delivery(conn, *owner, payload, json.dumps(payload))
        )

    def _publish(
        self, account_id: UUID, livemode: bool, payload: dict[str, Any], bodies: dict[str, str]
    ) -> None:
        """Add the event to the account's feed and a delivery for each endpoint that wants it,
        in the endpoint's payload format; each body encoded once. Publications in a row are
        written together (`Publications`), between the other work in log order."""
        latest = self._work[-1] if self._work else None
        if not isinstance(latest, Publications):
            latest = Publications(self._new_deliveries)
            self._work.append(latest)
        latest.add(Publication(FeedEntry(account_id, livemode, payload, bodies[RISITI]), bodies))

    def _call_back(self, invoice: Invoice, payload: dict[str, Any], body: str) -> None:
        """Once the invoice is paid, a delivery of the payload to its `callback_url`, through a
        copy of its own signed with the account's callback secret (docs/webhooks.md)."""
        if invoice.callback_url is None or payload["event"] not in CALLBACK_EVENTS:
            return
        target, url = invoice_callback_id(invoice.id), invoice.callback_url
        owner = invoice.account_id, invoice.livemode

        async def call_back(conn: asyncpg.Connection) -> None:
            await callback_signing_secret(conn, *owner)
            await outbox.keep_callback_copy(conn, target, *owner, url, callback_signer_id(*owner))
            await self._insert_delivery(conn, target, *owner, payload, body)

        self._work.append(call_back)

    async def _insert_delivery(
        self,
        conn: asyncpg.Connection,
        endpoint_id: UUID,
        account_id: UUID,
        livemode: bool,
        payload: dict[str, Any],
        body: str,
    ) -> None:
        delivery = _delivery(endpoint_id, account_id, livemode, payload, body)
        self._new_deliveries += await outbox.insert_webhook_deliveries(conn, [delivery])


@dataclass(frozen=True)
class Publication:
    """A public event: its feed entry, and its body in each payload format that has one."""

    entry: FeedEntry
    bodies: dict[str, str]


class Publications:
    """Public events next to each other in the log, written with three statements whatever
    their number: their feed entries, the enabled endpoints of their accounts, and the
    deliveries to those endpoints that take them."""

    def __init__(self, new_deliveries: list[UUID]) -> None:
        self._publications: list[Publication] = []
        self._new_deliveries = new_deliveries

    def add(self, publication: Publication) -> None:
        self._publications.append(publication)

    async def __call__(self, conn: asyncpg.Connection) -> None:
        await add_to_feed(conn, [p.entry for p in self._publications])
        owners = {(p.entry.account_id, p.entry.livemode) for p in self._publications}
        endpoints = await outbox.enabled_endpoints_of(conn, owners)
        deliveries = [
            _delivery(endpoint.id, endpoint.account_id, endpoint.livemode, p.entry.payload, body)
            for p in self._publications
            for endpoint in endpoints
            if (endpoint.account_id, endpoint.livemode) == (p.entry.account_id, p.entry.livemode)
            and subscribes_to(endpoint.events, p.entry.payload["event"])
            and (body := p.bodies.get(endpoint.payload_format)) is not None
        ]
        self._new_deliveries += await outbox.insert_webhook_deliveries(conn, deliveries)


def _delivery(
    endpoint_id: UUID, account_id: UUID, livemode: bool, payload: dict[str, Any], body: str
) -> outbox.NewDelivery:
    return outbox.NewDelivery(
        delivery_id(payload["id"], endpoint_id),
        endpoint_id,
        account_id,
        livemode,
        payload["event"],
        body,
        payload["id"],
    )


def _other_formats(aggregate: object, payload: dict[str, Any]) -> dict[str, str]:
    """The event's bodies in the other payload formats that have one for it."""
    if isinstance(aggregate, Invoice):
        kredo = kredo_event_body(payload["event"], aggregate)
        return {KREDO: kredo} if kredo is not None else {}
    return {}


def _owner(aggregate: object) -> tuple[UUID, bool]:
    """The account, and its mode, that every aggregate of Risiti's belongs to."""
    return getattr(aggregate, "account_id"), getattr(aggregate, "livemode")  # noqa: B009


def _disables(event: object) -> bool:
    """Whether an endpoint's event is the one that turned its deliveries off."""
    if isinstance(event, WebhookEndpoint.Updated):
        return event.changes.get("enabled") is False
    return isinstance(event, WebhookEndpoint.Disabled | WebhookEndpoint.Deleted)


def _topic_prefix(cls: type[Any]) -> str:
    return f"{cls.__module__}:{cls.__qualname__}."


_TOPICS = tuple(_topic_prefix(cls) for cls in (Invoice, Customer, WebhookEndpoint, Product))
