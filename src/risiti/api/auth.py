"""Bearer authentication: `Authorization: Bearer sk_test_…` or `sk_live_…`, and the signature
of an account that requires signed requests (DESIGN.md §6), or of every request to a seed
dialect whose API signs them all (Paycashless, in its own form)."""

from __future__ import annotations

import time
from uuid import UUID

from aiohttp import web

from risiti.api.errors import BEARER_CHALLENGE, ApiError, EdgeCode, Handler
from risiti.api.keys import CALLER, LEDGER
from risiti.api.request_signing import (
    NATIVE,
    NATIVE_FORM,
    TOLERANCE_SECONDS,
    SigningForm,
    signature_digest,
    signature_matches,
    timestamp_is_fresh,
    version_1_string_to_sign,
)
from risiti.commands.accounts import Authenticated, authenticate, hash_api_key
from risiti.commands.errors import SignatureError
from risiti.commands.ledger import Ledger
from risiti.eventstore import request_signatures

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
# RFC 6750: a key that was sent but is wrong is an invalid_token.
INVALID_TOKEN = {"WWW-Authenticate": f'{BEARER_CHALLENGE}, error="invalid_token"'}


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
PUBLIC_PATHS = web.AppKey("public_paths", frozenset[str])
"""The routes of the operations declared `public` beyond PUBLIC_PREFIXES (each dialect's
OpenAPI document)."""
SIGNED_PREFIXES = web.AppKey("signed_prefixes", tuple[tuple[str, SigningForm], ...])
"""Path prefixes (a seed dialect's base path) under which every request must be signed, and
the form its signature signs; elsewhere only an account that requires it signs, natively."""


def _signing_form(request: web.Request, require_signed_requests: bool) -> SigningForm | None:
    for prefix, form in request.app.get(SIGNED_PREFIXES, ()):
        if request.path.startswith(prefix):
            return form
    return NATIVE if require_signed_requests else None


def _is_public(request: web.Request) -> bool:
    if request.path.startswith(PUBLIC_PREFIXES):
        return True
    resource = request.match_info.route.resource
    return resource is not None and resource.canonical in request.app.get(PUBLIC_PATHS, ())


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the caller from its key; test and live keys see only their own data."""
    if _is_public(request):
        return await handler(request)
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            EdgeCode.AUTHENTICATION_REQUIRED,
            "Send your secret key as `Authorization: Bearer sk_test_…`.",
            headers={"WWW-Authenticate": BEARER_CHALLENGE},
        )
    authenticated = await request.app[KEY_CACHE].authenticate(request.app[LEDGER], key.strip())
    if authenticated is None:
        raise ApiError(
            401, EdgeCode.INVALID_API_KEY, "This API key is not valid.", headers=INVALID_TOKEN
        )
    form = _signing_form(request, authenticated.require_signed_requests)
    if form is not None:
        await check_signature(request, key.strip(), authenticated.caller.account_id, form)
    request[CALLER] = authenticated.caller
    return await handler(request)


async def check_signature(
    request: web.Request, key: str, account_id: UUID, form: SigningForm = NATIVE
) -> None:
    """`Request-Signature` is the hex HMAC-SHA512, keyed with the secret key, of the string
    `form` builds (natively `timestamp.METHOD.path_with_query.body`, docs/api.md "Signed
    requests"), with `Request-Timestamp` within 300 s; each signature is accepted once."""
    timestamp, signature = signature_headers(request)
    body = await request.read()
    # raw_path is the request target as sent: the path with its query, nothing decoded.
    string_to_sign = form.string_to_sign(timestamp, request.method, request.raw_path, body)
    if not signature_matches(key, string_to_sign, signature):
        native = form is NATIVE
        if native and signature_matches(key, version_1_string_to_sign(timestamp, body), signature):
            raise ApiError(
                401,
                SignatureError.code,
                "Request-Signature signs `timestamp.body`, a form no longer accepted: sign"
                f" `{NATIVE_FORM}` instead (docs/api.md, Signed requests).",
            )
        raise ApiError(
            401,
            SignatureError.code,
            "Request-Signature does not match the request: it must be the hex HMAC-SHA512,"
            f" keyed with your secret key, of `{form.written}`.",
        )
    await accept_signature_once(request, signature, account_id)


def signature_headers(request: web.Request) -> tuple[str, str]:
    """Request-Timestamp and Request-Signature, the timestamp within its window."""
    timestamp = request.headers.get("Request-Timestamp", "").strip()
    signature = request.headers.get("Request-Signature", "").strip()
    if not timestamp or not signature:
        raise ApiError(
            401,
            EdgeCode.SIGNATURE_REQUIRED,
            "This request must be signed: send Request-Timestamp and Request-Signature.",
        )
    now = time.time()
    if not timestamp_is_fresh(timestamp, now):
        raise ApiError(
            401,
            SignatureError.code,
            f"Request-Timestamp must be unix seconds within {TOLERANCE_SECONDS} s of our clock,"
            f" which reads {int(now)}.",
        )
    return timestamp, signature


async def accept_signature_once(request: web.Request, signature: str, account_id: UUID) -> None:
    """Refuse a signature already used. Recorded in a statement of its own, committed before the
    command starts (eventstore/request_signatures.py says why), so a command that then fails
    leaves it used: the client signs its retry afresh."""
    pool = request.app[LEDGER].pool
    if not await request_signatures.accept_once(pool, signature_digest(signature), account_id):
        raise ApiError(
            401,
            EdgeCode.SIGNATURE_REPLAYED,
            "This Request-Signature was already used: sign each request afresh, with the current"
            " Request-Timestamp; to retry a request safely, send the same Idempotency-Key.",
        )
