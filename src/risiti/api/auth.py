"""Bearer authentication: `Authorization: Bearer sk_test_…` or `sk_live_…` (DESIGN.md §6)."""

from __future__ import annotations

from aiohttp import web

from risiti.api.errors import ApiError, Handler
from risiti.api.keys import CALLER, LEDGER
from risiti.commands.accounts import authenticate

PUBLIC_PREFIXES = ("/healthz", "/readyz", "/i/", "/v1/openapi.json")


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
    caller = await authenticate(request.app[LEDGER], key.strip())
    if caller is None:
        raise ApiError(401, "invalid_api_key", "This API key is not valid.")
    request[CALLER] = caller
    return await handler(request)
