"""Webhook endpoint registration."""

from __future__ import annotations

from aiohttp import web

from risiti.api.envelope import ok, parse_body
from risiti.api.keys import CALLER, SETTINGS, ledger_for
from risiti.api.models import CreateWebhookEndpointRequest
from risiti.commands.webhook_endpoints import (
    RegisterWebhookEndpoint,
    register_webhook_endpoint,
)

routes = web.RouteTableDef()


@routes.post("/v1/webhook-endpoints")
async def create_webhook_endpoint(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateWebhookEndpointRequest)
    command = RegisterWebhookEndpoint(
        request[CALLER],
        body.url,
        body.events,
        body.description,
        allow_loopback_in_test=request.app[SETTINGS].webhook_allow_loopback_in_test_mode,
    )
    endpoint, secret = await register_webhook_endpoint(ledger_for(request), command)
    return ok(
        {
            "id": str(endpoint.id),
            "object": "webhook_endpoint",
            "url": endpoint.url,
            "events": endpoint.events,
            "description": endpoint.description,
            "enabled": endpoint.enabled,
            "livemode": endpoint.livemode,
            # Shown only in this response; keep it to verify signatures.
            "secret": secret,
            "created_at": endpoint.created_on.isoformat(),
        },
        status=201,
    )
