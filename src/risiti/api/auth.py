"""Bearer authentication: `Authorization: Bearer sk_test_…` or `sk_live_…` (DESIGN.md §6)."""

from __future__ import annotations

import hashlib
import hmac
import time
from uuid import UUID

from aiohttp import web

from risiti.api.errors import ApiError, Handler
from risiti.api.keys import CALLER, LEDGER
from risiti.commands.accounts import Authenticated, authenticate, hash_api_key
from risiti.commands.ledger import Ledger

SIGNATURE_TOLERANCE_SECONDS = 300
# How long this process trusts what it learnt of a key: a revoked key, or a change of the
# account's signing rule made through another process, takes effect within this time.
KEY_CACHE_SECONDS = 5.0
KEY_CACHE_SIZE = 10_000
PUBLIC_PREFIXES = (
    "/healthz",
    "/readyz",
    "/metrics",
    "/i/",
    "/v1/openapi.json",
    "/v1/integrations/paystack/",  # signed with the account's Paystack secret key instead
)


class KeyCache:
    """Keys this process authenticated lately, so that a busy client's every request does not
    ask the database again. Unknown keys are never remembered."""

    def __init__(self) -> None:
        self._known: dict[bytes, tuple[float, Authenticated]] = {}

    async def authenticate(self, ledger: Ledger, key: str) -> Authenticated | None:
        digest = hash_api_key(key)
        now = time.monotonic()
        known = self._known.get(digest)
        if known is not None and known[0] > now:
            return known[1]
        authenticated = await authenticate(ledger, key)
        if authenticated is not None:
            if len(self._known) >= KEY_CACHE_SIZE:
                self._known.clear()
            self._known[digest] = (now + KEY_CACHE_SECONDS, authenticated)
        return authenticated

    def forget_account(self, account_id: UUID) -> None:
        """Forget the account's keys at once (its settings changed in this process)."""
        for digest, (_, known) in list(self._known.items()):
            if known.caller.account_id == account_id:
                del self._known[digest]


KEY_CACHE = web.AppKey("key_cache", KeyCache)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the caller from its key; test and live keys see only their own data."""
    if request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            "authentication_required",
            "Send your secret key as `Authorization: Bearer sk_test_…`.",
        )
    authenticated = await request.app[KEY_CACHE].authenticate(request.app[LEDGER], key.strip())
    if authenticated is None:
        raise ApiError(401, "invalid_api_key", "This API key is not valid.")
    if authenticated.require_signed_requests:
        await check_signature(request, key.strip())
    request[CALLER] = authenticated.caller
    return await handler(request)


async def check_signature(request: web.Request, key: str) -> None:
    """Paycashless-style signing: `Request-Signature` is the hex HMAC-SHA512, keyed with the
    secret key, of `Request-Timestamp + "." + raw body`; the timestamp within 5 minutes."""
    timestamp = request.headers.get("Request-Timestamp", "")
    signature = request.headers.get("Request-Signature", "")
    if not timestamp or not signature:
        raise ApiError(
            401,
            "signature_required",
            "This account requires signed requests: send Request-Timestamp and Request-Signature.",
        )
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise ApiError(
            401, "invalid_signature", "Request-Timestamp is not within 5 minutes of our clock."
        )
    body = await request.read()
    expected = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha512)
    if not hmac.compare_digest(expected.hexdigest(), signature.strip().lower()):
        raise ApiError(401, "invalid_signature", "Request-Signature does not match the request.")
