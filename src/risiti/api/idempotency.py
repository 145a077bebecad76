"""Idempotency-Key on every POST (DESIGN.md §6): the same key and body answer the first response
again; the same key with another body is refused with `idempotency_key_reused`.

The request runs inside one transaction that holds the key, so its events and its stored
response commit together: a crash loses both or neither. Concurrent requests with one key wait
for the first to finish and then answer its response. A request whose transaction turns out too
old to append (the store's per-aggregate order) is run again from the start in a new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time

import asyncpg
from aiohttp import web

from risiti.api.errors import ApiError, EdgeCode, Handler, validation_error
from risiti.api.keys import CALLER, JOINED_LEDGER, LEDGER
from risiti.commands.ledger import retry_in_new_transaction
from risiti.eventstore import idempotency
from risiti.eventstore.idempotency import IdempotencyKey, StoredResponse
from risiti.eventstore.recorder import notify_appended

MAX_KEY_LENGTH = 255
# How long a request waits for another with the same key before it gives up.
WAIT_FOR_FIRST_SECONDS = 30.0
_POLL_SECONDS = 0.02
_REPLAYED_HEADERS = ("Content-Type", "ETag", "Location")


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    header = request.headers.get("Idempotency-Key")
    if request.method != "POST" or header is None or CALLER not in request:
        return await handler(request)
    key = await _key(request, header)
    pool: asyncpg.Pool = request.app[LEDGER].pool
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS

    async def answer() -> web.StreamResponse | None:
        async with pool.acquire() as conn:
            return await _answer_holding_key(request, handler, conn, key)

    while True:
        response = await retry_in_new_transaction(answer)
        if response is not None:
            return response
        if time.monotonic() > deadline:
            raise ApiError(
                409,
                EdgeCode.IDEMPOTENCY_KEY_IN_USE,
                "Another request with this Idempotency-Key is still running; retry later.",
            )
        await asyncio.sleep(_POLL_SECONDS)


async def _answer_holding_key(
    request: web.Request, handler: Handler, conn: asyncpg.Connection, key: IdempotencyKey
) -> web.StreamResponse | None:
    """The first response again, or a fresh one stored with the events; None while another
    request holds the key."""
    async with conn.transaction():
        if not await idempotency.try_lock(conn, key):
            return None
        stored = await idempotency.find_response(conn, key)
        if stored is not None:
            return _replay(stored, key)
        request[JOINED_LEDGER] = request.app[LEDGER].joining(conn)
        response = await handler(request)
        if isinstance(response, web.Response) and 200 <= response.status < 300:
            await idempotency.save_response(
                conn, key, response.status, _kept_headers(response), _body(response)
            )
    await notify_appended(conn)
    return response


async def _key(request: web.Request, header: str) -> IdempotencyKey:
    if not 0 < len(header) <= MAX_KEY_LENGTH:
        raise validation_error(
            [{"field": "Idempotency-Key", "message": f"1 to {MAX_KEY_LENGTH} characters"}]
        )
    caller = request[CALLER]
    return IdempotencyKey(caller.account_id, caller.livemode, header, await _fingerprint(request))


async def _fingerprint(request: web.Request) -> bytes:
    """What makes two requests the same: method, path and body (JSON compared by meaning, so
    whitespace and key order do not matter)."""
    raw = await request.read()
    try:
        body = json.dumps(json.loads(raw or b"{}"), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        body = raw
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).digest()


def _replay(stored: StoredResponse, key: IdempotencyKey) -> web.Response:
    if stored.fingerprint != key.fingerprint:
        raise ApiError(
            422,
            EdgeCode.IDEMPOTENCY_KEY_REUSED,
            "This Idempotency-Key was used with another request; use a new key for a new request.",
        )
    headers = stored.headers | {"Idempotent-Replayed": "true"}
    return web.Response(status=stored.status, body=stored.body, headers=headers)


def _kept_headers(response: web.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers}


def _body(response: web.Response) -> bytes:
    body = response.body
    return body if isinstance(body, bytes) else b""
