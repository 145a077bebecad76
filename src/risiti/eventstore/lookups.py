"""Tables written beside the events, in the same transaction, so that they can never disagree
with the log: key hashes, document-number counters, hosted-page tokens, endpoint secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from risiti.eventstore.paging import Place, cursor_after, newest_first, seek


class KeyOwner(NamedTuple):
    account_id: UUID
    livemode: bool
    key_id: str
    require_signed_requests: bool


async def save_api_key(
    conn: asyncpg.Connection, key_hash: bytes, key_id: str, account_id: UUID, livemode: bool
) -> None:
    await conn.execute(
        "INSERT INTO api_keys (key_hash, key_id, account_id, livemode) VALUES ($1, $2, $3, $4)",
        key_hash,
        key_id,
        account_id,
        livemode,
    )


async def find_api_key(conn: asyncpg.Connection | asyncpg.Pool, key_hash: bytes) -> KeyOwner | None:
    row = await conn.fetchrow(
        "SELECT k.account_id, k.livemode, k.key_id,"
        " coalesce(s.require_signed_requests, false) AS require_signed_requests"
        " FROM api_keys k LEFT JOIN account_settings s USING (account_id)"
        " WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        key_hash,
    )
    return KeyOwner(**row) if row else None


async def take_next_number(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, prefix: str, year: int
) -> int:
    """The next number of a series. The counter's row stays locked until the transaction ends,
    so a rolled-back finalization gives its number back and the series has no gaps."""
    number: int = await conn.fetchval(
        "INSERT INTO document_numbers (account_id, livemode, prefix, year, last_number)"
        " VALUES ($1, $2, $3, $4, 1)"
        " ON CONFLICT (account_id, livemode, prefix, year)"
        " DO UPDATE SET last_number = document_numbers.last_number + 1"
        " RETURNING last_number",
        account_id,
        livemode,
        prefix,
        year,
    )
    return number


async def save_invoice_token(conn: asyncpg.Connection, token: str, invoice_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO invoice_tokens (token, invoice_id) VALUES ($1, $2)", token, invoice_id
    )


async def find_invoice_by_token(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> UUID | None:
    invoice_id: UUID | None = await conn.fetchval(
        "SELECT invoice_id FROM invoice_tokens WHERE token = $1", token
    )
    return invoice_id


async def save_invoice_number(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, number: str, invoice_id: UUID
) -> None:
    await conn.execute(
        "INSERT INTO invoice_numbers (account_id, livemode, document_number, invoice_id)"
        " VALUES ($1, $2, $3, $4)",
        account_id,
        livemode,
        number,
        invoice_id,
    )


async def find_invoice_by_number(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, livemode: bool, number: str
) -> UUID | None:
    invoice_id: UUID | None = await conn.fetchval(
        "SELECT invoice_id FROM invoice_numbers"
        " WHERE account_id = $1 AND livemode = $2 AND document_number = $3",
        account_id,
        livemode,
        number,
    )
    return invoice_id


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


async def save_customer(
    conn: asyncpg.Connection,
    customer_id: UUID,
    account_id: UUID,
    livemode: bool,
    email: str | None,
    created_at: datetime,
    record: dict[str, Any],
) -> bool:
    """Keep a new customer; False if the account already has a customer with this email."""
    status: str = await conn.execute(
        "INSERT INTO customers (id, account_id, livemode, email, created_at, record)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
        " ON CONFLICT (account_id, livemode, email) WHERE email IS NOT NULL DO NOTHING",
        customer_id,
        account_id,
        livemode,
        email,
        created_at,
        json.dumps(record),
    )
    return status.endswith(" 1")


async def find_customer_by_email(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, email: str
) -> UUID | None:
    customer_id: UUID | None = await conn.fetchval(
        "SELECT id FROM customers WHERE account_id = $1 AND livemode = $2 AND email = $3",
        account_id,
        livemode,
        email,
    )
    return customer_id


@dataclass(frozen=True)
class RecordPage:
    records: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


# Tables of (id, account_id, livemode, created_at, record) that list an account's objects.
LISTED_TABLES = frozenset({"customers", "tax_rates", "webhook_endpoint_records", "products"})


async def save_listed_record(
    conn: asyncpg.Connection,
    table: str,
    row_id: UUID,
    account_id: UUID,
    livemode: bool,
    created_at: datetime,
    record: dict[str, Any],
) -> None:
    """Keep a tax rate's or an endpoint's record as it now reads (customers keep theirs with
    `save_customer`, which also guards their emails)."""
    if table not in LISTED_TABLES:
        raise ValueError(f"{table} is not a listed table")
    await conn.execute(
        f"INSERT INTO {table} (id, account_id, livemode, created_at, record)"
        " VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (id) DO UPDATE SET record = $5::jsonb",
        row_id,
        account_id,
        livemode,
        created_at,
        json.dumps(record),
    )


async def list_records(
    conn: asyncpg.Connection,
    table: str,
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    after: Place | None,
    backward: bool = False,
) -> RecordPage:
    """A newest-first page of an account's customers, tax rates or endpoints, after a cursor's
    place (`backward`: just before it)."""
    if table not in LISTED_TABLES:
        raise ValueError(f"{table} is not a listed table")
    comparison, order = seek(backward=backward)
    rows = await conn.fetch(
        f"SELECT record::text, created_at, id FROM {table}"
        " WHERE account_id = $1 AND livemode = $2"
        f" AND ($3::timestamptz IS NULL OR (created_at, id) {comparison} ($3, $4::uuid))"
        f" ORDER BY created_at {order}, id {order} LIMIT $5",
        account_id,
        livemode,
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    return _record_page(rows, limit, backward, lambda row: json.loads(row["record"]))


async def find_record_place(
    conn: asyncpg.Connection, table: str, account_id: UUID, livemode: bool, row_id: UUID
) -> Place | None:
    """The place of a listed row in its list, for `starting_after=<id>`."""
    if table not in LISTED_TABLES:
        raise ValueError(f"{table} is not a listed table")
    row = await conn.fetchrow(
        f"SELECT created_at, id FROM {table} WHERE id = $1 AND account_id = $2 AND livemode = $3",
        row_id,
        account_id,
        livemode,
    )
    return (row["created_at"], row["id"]) if row else None


async def list_page(
    conn: asyncpg.Connection,
    table: str,
    account_id: UUID,
    livemode: bool,
    *,
    limit: int,
    after: Place | UUID | None,
    backward: bool = False,
) -> RecordPage | None:
    """A page after (`backward`: before) a cursor's place or the row with an id; None if that
    row is unknown."""
    if isinstance(after, UUID):
        place = await find_record_place(conn, table, account_id, livemode, after)
        if place is None:
            return None
        after = place
    return await list_records(
        conn, table, account_id, livemode, limit=limit, after=after, backward=backward
    )


async def set_signed_requests(conn: asyncpg.Connection, account_id: UUID, required: bool) -> None:
    await conn.execute(
        "INSERT INTO account_settings (account_id, require_signed_requests) VALUES ($1, $2)"
        " ON CONFLICT (account_id) DO UPDATE SET require_signed_requests = $2",
        account_id,
        required,
    )


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


async def delete_webhook_endpoint_record(conn: asyncpg.Connection, endpoint_id: UUID) -> None:
    await conn.execute("DELETE FROM webhook_endpoint_records WHERE id = $1", endpoint_id)


def _record_page(
    rows: list[Any], limit: int, backward: bool, record: Callable[[Any], dict[str, Any]]
) -> RecordPage:
    page, has_more = newest_first(rows, limit, backward=backward)
    return RecordPage(
        records=[record(row) for row in page],
        has_more=has_more,
        next_cursor=cursor_after(page, has_more, backward=backward),
    )


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
        "SELECT id, endpoint_id, event_type, payload::json ->> 'id' AS event_id, status,"
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
    return _record_page(rows, limit, backward, lambda row: _delivery_record(row, by_delivery))


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


async def insert_webhook_delivery(
    conn: asyncpg.Connection,
    delivery_id: UUID,
    endpoint_id: UUID,
    account_id: UUID,
    livemode: bool,
    event_type: str,
    payload_json: str,
) -> bool:
    """Keep one delivery of an event to an endpoint, due now; False if it is kept already.
    Its id is derived from the event and the endpoint (`public_events.delivery_id`)."""
    inserted = await conn.fetchval(
        "INSERT INTO webhook_deliveries (id, endpoint_id, account_id, livemode, event_type,"
        " payload) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id",
        delivery_id,
        endpoint_id,
        account_id,
        livemode,
        event_type,
        payload_json,
    )
    return inserted is not None


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
) -> UUID | None:
    endpoint_id: UUID | None = await conn.fetchval(
        "SELECT endpoint_id FROM webhook_deliveries"
        " WHERE id = $1 AND account_id = $2 AND livemode = $3",
        delivery_id,
        account_id,
        livemode,
    )
    return endpoint_id


async def set_paystack_secret_key(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, secret_key: str | None
) -> None:
    """Keep (or, with None, forget) the account's Paystack secret key of one mode."""
    column = "paystack_secret_key_live" if livemode else "paystack_secret_key_test"
    await conn.execute(
        f"INSERT INTO account_settings (account_id, {column}) VALUES ($1, $2)"
        f" ON CONFLICT (account_id) DO UPDATE SET {column} = $2",
        account_id,
        secret_key,
    )


async def find_paystack_secret_key(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, livemode: bool
) -> str | None:
    column = "paystack_secret_key_live" if livemode else "paystack_secret_key_test"
    secret_key: str | None = await conn.fetchval(
        f"SELECT {column} FROM account_settings WHERE account_id = $1",
        account_id,
    )
    return secret_key


async def claim_paystack_reference(
    conn: asyncpg.Connection, reference: str, invoice_id: UUID
) -> bool:
    """Note a Paystack charge as recorded; False if it already was (in a committed transaction,
    or in one still open, which this waits for)."""
    inserted: UUID | None = await conn.fetchval(
        "INSERT INTO paystack_payments (reference, invoice_id) VALUES ($1, $2)"
        " ON CONFLICT (reference) DO NOTHING RETURNING invoice_id",
        reference,
        invoice_id,
    )
    return inserted is not None


async def set_reminder_days(
    conn: asyncpg.Connection, account_id: UUID, reminder_days: list[int]
) -> None:
    """Keep the account's reminder schedule where the reminders job reads it."""
    await conn.execute(
        "INSERT INTO account_settings (account_id, reminder_days) VALUES ($1, $2)"
        " ON CONFLICT (account_id) DO UPDATE SET reminder_days = $2",
        account_id,
        reminder_days,
    )


class NumberedInvoice(NamedTuple):
    account_id: UUID
    livemode: bool
    invoice_id: UUID


async def find_invoices_numbered(
    conn: asyncpg.Connection | asyncpg.Pool,
    number: str,
    account_id: UUID | None = None,
    livemode: bool | None = None,
) -> list[NumberedInvoice]:
    """Every invoice with a document number, in any account and mode unless narrowed: numbers
    are unique per account, mode and series only (operators' tools, `risiti history`)."""
    rows = await conn.fetch(
        "SELECT account_id, livemode, invoice_id FROM invoice_numbers WHERE document_number = $1"
        " AND ($2::uuid IS NULL OR account_id = $2) AND ($3::boolean IS NULL OR livemode = $3)"
        " ORDER BY account_id, livemode",
        number,
        account_id,
        livemode,
    )
    return [NumberedInvoice(**row) for row in rows]


async def save_product(
    conn: asyncpg.Connection,
    product_id: UUID,
    account_id: UUID,
    livemode: bool,
    sku: str,
    created_at: datetime,
    record: dict[str, Any],
) -> None:
    """Keep a product's record as it now reads; asyncpg.UniqueViolationError if its sku is
    another product's of the same account and mode."""
    await conn.execute(
        "INSERT INTO products (id, account_id, livemode, sku, created_at, record)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
        " ON CONFLICT (id) DO UPDATE SET sku = $4, record = $6::jsonb",
        product_id,
        account_id,
        livemode,
        sku,
        created_at,
        json.dumps(record),
    )


async def find_product_by_sku(
    conn: asyncpg.Connection, account_id: UUID, livemode: bool, sku: str
) -> UUID | None:
    product_id: UUID | None = await conn.fetchval(
        "SELECT id FROM products WHERE account_id = $1 AND livemode = $2 AND sku = $3",
        account_id,
        livemode,
        sku,
    )
    return product_id
