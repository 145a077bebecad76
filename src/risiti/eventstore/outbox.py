"""The outbox: every row of work that leaves the log for the outside world, and its state.

What the dispatcher finds in committed events is kept here in its batch transaction, then
workers claim, attempt and settle it (DESIGN.md §8): webhook deliveries and their attempts, the
dispatcher's copy of the endpoints and their signing secrets, document sends and stock jobs.
PostgreSQL holds the work; Redis only wakes workers, and the sweepers find what a lost wake-up
left behind. All the SQL of it is here so that its states can be read in one place (which is
why the module is over 400 lines).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from risiti.eventstore.listings import RecordPage, record_page
from risiti.eventstore.paging import Place, seek

# Endpoints: the dispatcher's copy, and the secrets that sign their deliveries ----------------


async def keep_endpoint_copy(
    conn: asyncpg.Connection,
    endpoint_id: UUID,
    account_id: UUID,
    livemode: bool,
    url: str,
    events: list[str],
    enabled: bool,
    payload_format: str,
) -> None:
    """Keep the dispatcher's copy of an endpoint as its events now leave it."""
    await conn.execute(
        "INSERT INTO webhook_endpoints (id, account_id, livemode, url, events, enabled,"
        " payload_format) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE"
        " SET url = $4, events = $5, enabled = $6, payload_format = $7",
        endpoint_id,
        account_id,
        livemode,
        url,
        events,
        enabled,
        payload_format,
    )


async def keep_callback_copy(
    conn: asyncpg.Connection,
    callback_id: UUID,
    account_id: UUID,
    livemode: bool,
    url: str,
    signed_by: UUID,
) -> None:
    """Keep the copy an invoice's callback is delivered through: its URL as the invoice now
    says, subscribed to no event (its deliveries are inserted for it alone) and signed by the
    secrets of `signed_by`, the account's callback signer."""
    await conn.execute(
        "INSERT INTO webhook_endpoints (id, account_id, livemode, url, events, signed_by)"
        " VALUES ($1, $2, $3, $4, '{}', $5) ON CONFLICT (id) DO UPDATE SET url = $4",
        callback_id,
        account_id,
        livemode,
        url,
        signed_by,
    )


@dataclass(frozen=True)
class EnabledEndpoint:
    """The dispatcher's copy of an enabled endpoint: whose it is, what it subscribed to, and
    the format its bodies are written in."""

    id: UUID
    account_id: UUID
    livemode: bool
    events: tuple[str, ...]
    payload_format: str


async def enabled_endpoints_of(
    conn: asyncpg.Connection, owners: Collection[tuple[UUID, bool]]
) -> list[EnabledEndpoint]:
    """The enabled endpoints of these accounts and modes, in one query for a whole batch; which
    events each takes is the domain's rule (`webhook_endpoint.subscribes_to`)."""
    rows = await conn.fetch(
        "SELECT id, account_id, livemode, events, payload_format FROM webhook_endpoints"
        " WHERE enabled AND (account_id, livemode)"
        " IN (SELECT * FROM unnest($1::uuid[], $2::boolean[]))",
        [account_id for account_id, _ in owners],
        [livemode for _, livemode in owners],
    )
    return [
        EnabledEndpoint(
            row["id"],
            row["account_id"],
            row["livemode"],
            tuple(row["events"]),
            row["payload_format"],
        )
        for row in rows
    ]


async def save_webhook_secret(conn: asyncpg.Connection, endpoint_id: UUID, secret: str) -> None:
    await conn.execute(
        "INSERT INTO webhook_secrets (endpoint_id, secret) VALUES ($1, $2)", endpoint_id, secret
    )


async def current_webhook_secrets(
    conn: asyncpg.Connection | asyncpg.Pool, endpoint_id: UUID
) -> list[str]:
    """The secrets to sign with now: more than one while a rotation overlaps."""
    rows = await conn.fetch(
        "SELECT secret FROM webhook_secrets WHERE endpoint_id = $1"
        " AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC",
        endpoint_id,
    )
    return [row["secret"] for row in rows]


async def rotate_webhook_secret(
    conn: asyncpg.Connection, endpoint_id: UUID, secret: str, expire_current_after_seconds: int
) -> None:
    """Add a new secret; the unexpired ones keep signing for the given time, never longer than
    they already would."""
    await conn.execute(
        "UPDATE webhook_secrets SET expires_at = least(coalesce(expires_at, 'infinity'),"
        " now() + make_interval(secs => $2)) WHERE endpoint_id = $1"
        " AND (expires_at IS NULL OR expires_at > now())",
        endpoint_id,
        float(expire_current_after_seconds),
    )
    await save_webhook_secret(conn, endpoint_id, secret)


async def kept_signing_secret(conn: asyncpg.Connection, signer_id: UUID, new_secret: str) -> str:
    """The current secret of a signer that has one, or `new_secret`, kept as its first: an
    account's callback signer gets its secret the first time it is needed or shown. The lock
    makes two first times keep one secret."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))", signer_id
    )
    current = await current_webhook_secrets(conn, signer_id)
    if current:
        return current[0]
    await save_webhook_secret(conn, signer_id, new_secret)
    return new_secret


# Webhook deliveries and their attempts -------------------------------------------------------


@dataclass(frozen=True)
class NewDelivery:
    """One delivery of an event to an endpoint. Its id is derived from the event and the
    endpoint (`public_events.delivery_id`); `event_id` is its `webhook-id`."""

    id: UUID
    endpoint_id: UUID
    account_id: UUID
    livemode: bool
    event_type: str
    payload_json: str
    event_id: str


async def insert_webhook_deliveries(
    conn: asyncpg.Connection, deliveries: Sequence[NewDelivery]
) -> list[UUID]:
    """Keep the deliveries, due now, in one statement; returns the ids of those not kept
    already (a batch applied again inserts nothing)."""
    if not deliveries:
        return []
    rows = await conn.fetch(
        "INSERT INTO webhook_deliveries (id, endpoint_id, account_id, livemode, event_type,"
        " payload, event_id) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[],"
        " $4::boolean[], $5::text[], $6::text[], $7::text[])"
        " ON CONFLICT (id) DO NOTHING RETURNING id",
        [d.id for d in deliveries],
        [d.endpoint_id for d in deliveries],
        [d.account_id for d in deliveries],
        [d.livemode for d in deliveries],
        [d.event_type for d in deliveries],
        [d.payload_json for d in deliveries],
        [d.event_id for d in deliveries],
    )
    return [row["id"] for row in rows]


async def stop_pending_deliveries(conn: asyncpg.Connection, endpoint_id: UUID) -> None:
    """Fail the pending deliveries of an endpoint just disabled or deleted."""
    await conn.execute(
        "UPDATE webhook_deliveries SET status = 'failed', updated_at = now()"
        " WHERE endpoint_id = $1 AND status = 'pending'",
        endpoint_id,
    )


@dataclass(frozen=True)
class ClaimedDelivery:
    id: UUID
    endpoint_id: UUID
    url: str
    livemode: bool
    payload: str
    attempts: int
    secrets: list[str]
    """The endpoint's signing secrets now: more than one while a rotation overlaps."""
    message_id: str | None = None
    """The `webhook-id`; None for a delivery kept before it was stored, whose payload's `id`
    it is."""
    callback: bool = False
    """An invoice's callback, not an endpoint's delivery: nothing disables it."""


async def claim_deliveries(
    pool: asyncpg.Pool, delivery_ids: list[UUID], claim_seconds: float
) -> list[ClaimedDelivery]:
    """Take those of the deliveries that are due, unclaimed and pending for one attempt each,
    with what signs them. The claim outlives the job's timeout, so a crashed worker's
    deliveries are tried again once it lapses."""
    rows = await pool.fetch(
        "UPDATE webhook_deliveries d SET attempts = d.attempts + 1,"
        " claimed_until = now() + make_interval(secs => $2), updated_at = now()"
        " FROM webhook_endpoints e"
        " WHERE d.id = ANY($1::uuid[]) AND e.id = d.endpoint_id AND d.status = 'pending'"
        " AND d.next_attempt_at <= now() AND (d.claimed_until IS NULL OR d.claimed_until < now())"
        " RETURNING d.id, d.endpoint_id, e.url, d.livemode, d.payload, d.attempts,"
        " ARRAY(SELECT s.secret FROM webhook_secrets s"
        " WHERE s.endpoint_id = coalesce(e.signed_by, d.endpoint_id)"
        " AND (s.expires_at IS NULL OR s.expires_at > now()) ORDER BY s.created_at DESC)"
        " AS secrets, d.event_id AS message_id, e.signed_by IS NOT NULL AS callback",
        delivery_ids,
        claim_seconds,
    )
    return [ClaimedDelivery(**row) for row in rows]


@dataclass(frozen=True)
class Attempt:
    """One attempt at a delivery as it ended, and what becomes of the delivery."""

    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None
    succeeded: bool
    delivery_status: str
    """`succeeded`, `pending` (tried again after `delay`) or `failed`."""
    delay: float | None


async def settle_attempt(
    pool: asyncpg.Pool, delivery: ClaimedDelivery, attempt: Attempt
) -> float | None:
    """Log the attempt, settle the delivery and note whether its endpoint is failing, in one
    statement; how long the endpoint has been failing (None if it is not). A 410 turns the
    endpoint's copy off at once."""
    failing_seconds: float | None = await pool.fetchval(
        "WITH attempt AS (INSERT INTO webhook_attempts (delivery_id, attempt, status_code,"
        " latency_ms, response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT DO NOTHING),"
        " delivery AS (UPDATE webhook_deliveries SET status = $7, claimed_until = NULL,"
        " updated_at = now(), next_attempt_at = now() + make_interval(secs => $8) WHERE id = $1)"
        " UPDATE webhook_endpoints SET failing_since = CASE WHEN $9 THEN NULL"
        " ELSE coalesce(failing_since, now()) END,"
        " enabled = enabled AND $3 IS DISTINCT FROM 410"
        " WHERE id = $10 RETURNING extract(epoch FROM now() - failing_since)::float8",
        delivery.id,
        delivery.attempts,
        attempt.status_code,
        attempt.latency_ms,
        attempt.excerpt,
        attempt.error,
        attempt.delivery_status,
        attempt.delay or 0.0,
        attempt.succeeded,
        delivery.endpoint_id,
    )
    return failing_seconds


async def lost_deliveries(pool: asyncpg.Pool) -> list[UUID]:
    """Deliveries due a while ago and unclaimed: their wake-up never reached a worker."""
    rows = await pool.fetch(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending'"
        " AND next_attempt_at <= now() - interval '2 seconds'"
        " AND (claimed_until IS NULL OR claimed_until < now()) LIMIT 1000"
    )
    return [row["id"] for row in rows]


async def make_failed_deliveries_due(
    conn: asyncpg.Connection, endpoint_id: UUID, since: datetime
) -> int:
    """Make every failed delivery of an endpoint created since a time due now; how many."""
    status: str = await conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(),"
        " updated_at = now() WHERE endpoint_id = $1 AND status = 'failed' AND created_at >= $2",
        endpoint_id,
        since,
    )
    return int(status.split()[-1])


async def make_delivery_due(
    conn: asyncpg.Connection, delivery_id: UUID, account_id: UUID, livemode: bool
) -> str | None:
    """Make a failed or pending delivery of the account due now; returns its status before,
    None if the account has no such delivery. A succeeded delivery is left as it is."""
    row = await conn.fetchrow(
        "SELECT status FROM webhook_deliveries"
        " WHERE id = $1 AND account_id = $2 AND livemode = $3 FOR UPDATE",
        delivery_id,
        account_id,
        livemode,
    )
    if row is None:
        return None
    if row["status"] in ("failed", "pending"):
        await conn.execute(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(),"
            " updated_at = now() WHERE id = $1",
            delivery_id,
        )
    status: str = row["status"]
    return status


async def find_webhook_delivery_endpoint(
    conn: asyncpg.Connection, delivery_id: UUID, account_id: UUID, livemode: bool
) -> tuple[UUID, bool] | None:
    """The endpoint (or invoice callback) a delivery of the account goes to, and whether it is
    a callback; None if the account has no such delivery."""
    row = await conn.fetchrow(
        "SELECT d.endpoint_id, coalesce(e.signed_by IS NOT NULL, false) AS callback"
        " FROM webhook_deliveries d LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        " WHERE d.id = $1 AND d.account_id = $2 AND d.livemode = $3",
        delivery_id,
        account_id,
        livemode,
    )
    return (row["endpoint_id"], row["callback"]) if row else None


async def list_webhook_deliveries(
    conn: asyncpg.Connection,
    endpoint_id: UUID,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> RecordPage | None:
    """A newest-first page of an endpoint's deliveries (after `after`, or just before it), each
    with its attempts in order; None if the delivery `after` names is not the endpoint's."""
    if isinstance(after, UUID):
        row = await conn.fetchrow(
            "SELECT created_at, id FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2",
            after,
            endpoint_id,
        )
        if row is None:
            return None
        after = (row["created_at"], row["id"])
    comparison, order = seek(backward=backward)
    rows = await conn.fetch(
        "SELECT id, endpoint_id, event_type,"
        " coalesce(event_id, payload::json ->> 'id') AS event_id, status,"
        " attempts, next_attempt_at, created_at FROM webhook_deliveries WHERE endpoint_id = $1"
        f" AND ($2::timestamptz IS NULL OR (created_at, id) {comparison} ($2, $3::uuid))"
        f" ORDER BY created_at {order}, id {order} LIMIT $4",
        endpoint_id,
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    attempts = await conn.fetch(
        "SELECT delivery_id, attempt, attempted_at, status_code, latency_ms, response_excerpt,"
        " error FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[])"
        " ORDER BY delivery_id, attempt",
        [row["id"] for row in rows[:limit]],
    )
    by_delivery: dict[UUID, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt["delivery_id"], []).append(
            {
                "attempt": attempt["attempt"],
                "attempted_at": attempt["attempted_at"].isoformat(),
                "status_code": attempt["status_code"],
                "latency_ms": attempt["latency_ms"],
                "response_excerpt": attempt["response_excerpt"],
                "error": attempt["error"],
            }
        )
    return record_page(rows, limit, backward, lambda row: _delivery_record(row, by_delivery))


def _delivery_record(row: Any, attempts: dict[UUID, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "object": "webhook_delivery",
        "endpoint_id": str(row["endpoint_id"]),
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "status": row["status"],
        "next_attempt_at": row["next_attempt_at"].isoformat()
        if row["status"] == "pending"
        else None,
        "created_at": row["created_at"].isoformat(),
        "attempts": attempts.get(row["id"], []),
    }


# Document sends ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentSend:
    """One channel of one send request of an invoice: a `document_sends` row."""

    id: UUID
    invoice_id: UUID
    request: int
    channel: str
    recipient: str
    attempts: int


async def insert_document_send(
    conn: asyncpg.Connection,
    send_id: UUID,
    invoice_id: UUID,
    account_id: UUID,
    livemode: bool,
    request: int,
    channel: str,
    recipient: str,
) -> bool:
    """Keep one channel of a send request, due now; False if it is kept already."""
    inserted = await conn.fetchval(
        "INSERT INTO document_sends (id, invoice_id, account_id, livemode, request, channel,"
        " recipient) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (id) DO NOTHING RETURNING id",
        send_id,
        invoice_id,
        account_id,
        livemode,
        request,
        channel,
        recipient,
    )
    return inserted is not None


async def claim_send(
    pool: asyncpg.Pool, send_id: UUID, claim_seconds: float
) -> DocumentSend | None:
    """Take a due, unclaimed, pending send for one attempt; None if there is nothing to do."""
    row = await pool.fetchrow(
        "UPDATE document_sends SET attempts = attempts + 1, updated_at = now(),"
        " claimed_until = now() + make_interval(secs => $2)"
        " WHERE id = $1 AND status = 'pending' AND next_attempt_at <= now()"
        " AND (claimed_until IS NULL OR claimed_until < now())"
        " RETURNING id, invoice_id, request, channel, recipient, attempts",
        send_id,
        float(claim_seconds),
    )
    return DocumentSend(**row) if row else None


async def send_again_later(pool: asyncpg.Pool, send_id: UUID, error: str, delay: float) -> None:
    """Let go of a send that failed for a passing reason, due again after `delay` seconds."""
    await pool.execute(
        "UPDATE document_sends SET last_error = $2, claimed_until = NULL, updated_at = now(),"
        " next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
        send_id,
        error,
        delay,
    )


async def settle_send(
    conn: asyncpg.Connection, send_id: UUID, status: str, error: str | None
) -> None:
    """Settle a send as its invoice's event recorded it, in that event's transaction."""
    await conn.execute(
        "UPDATE document_sends SET status = $2, last_error = $3, claimed_until = NULL,"
        " updated_at = now() WHERE id = $1",
        send_id,
        status,
        error,
    )


async def lost_sends(pool: asyncpg.Pool) -> list[tuple[UUID, int]]:
    """Sends due a while ago and unclaimed, with their attempts so far."""
    rows = await pool.fetch(
        "SELECT id, attempts FROM document_sends WHERE status = 'pending'"
        " AND next_attempt_at <= now() - interval '2 seconds'"
        " AND (claimed_until IS NULL OR claimed_until < now()) LIMIT 1000"
    )
    return [(row["id"], row["attempts"]) for row in rows]


# Stock jobs ----------------------------------------------------------------------------------


async def insert_inventory_job(
    conn: asyncpg.Connection, job_id: UUID, invoice_id: UUID, kind: str
) -> bool:
    """Keep a job moving an invoice's stock; False if it is kept already."""
    inserted = await conn.fetchval(
        "INSERT INTO inventory_jobs (id, invoice_id, kind) VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO NOTHING RETURNING id",
        job_id,
        invoice_id,
        kind,
    )
    return inserted is not None


async def claim_inventory_job(conn: asyncpg.Connection, job_id: UUID) -> tuple[UUID, str] | None:
    """Mark a pending job done, in the transaction that does its work: (invoice id, kind), or
    None if it was done already. A second run waits here for the first one's transaction."""
    row = await conn.fetchrow(
        "UPDATE inventory_jobs SET status = 'done', attempts = attempts + 1, updated_at = now()"
        " WHERE id = $1 AND status = 'pending' RETURNING invoice_id, kind",
        job_id,
    )
    return (row["invoice_id"], row["kind"]) if row else None


async def lost_inventory_jobs(pool: asyncpg.Pool, pending_seconds: float) -> list[UUID]:
    """Jobs pending for longer than a worker takes: not woken, or their worker died."""
    rows = await pool.fetch(
        "SELECT id FROM inventory_jobs WHERE status = 'pending'"
        " AND updated_at <= now() - make_interval(secs => $1)"
        " ORDER BY created_at LIMIT 1000",
        float(pending_seconds),
    )
    return [row["id"] for row in rows]
