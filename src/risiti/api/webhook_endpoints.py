"""Webhook endpoints: registration and management, and their deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from aiohttp import web

from risiti.api.envelope import if_match, list_place, ok, page, parse_body, parse_query
from risiti.api.errors import ApiError
from risiti.api.keys import CALLER, SETTINGS, ledger_for
from risiti.api.models import (
    CreateWebhookEndpointRequest,
    ListQuery,
    RecoverQuery,
    RotateWebhookSecretRequest,
    UpdateWebhookEndpointRequest,
)
from risiti.commands import webhook_endpoints as endpoints
from risiti.commands.errors import NotFoundError
from risiti.commands.webhook_endpoints import RegisterWebhookEndpoint, register_webhook_endpoint
from risiti.domain.webhook_endpoint import WebhookEndpoint
from risiti.presentation.webhook_endpoints import webhook_endpoint_record
from risiti.queries import webhook_endpoints as endpoint_queries


async def create_webhook_endpoint(request: web.Request) -> web.Response:
    body = await parse_body(request, CreateWebhookEndpointRequest)
    command = RegisterWebhookEndpoint(
        request[CALLER],
        body.url,
        body.events,
        body.description,
        allow_loopback_in_test=request.app[SETTINGS].webhook_allow_loopback_in_test_mode,
        payload_format=body.payload_format,
    )
    endpoint, secret = await register_webhook_endpoint(ledger_for(request), command)
    # The secret is shown only in this response; keep it to verify signatures.
    return ok(
        {**webhook_endpoint_record(endpoint), "secret": secret},
        status=201,
        headers={"Location": f"/v1/webhook-endpoints/{endpoint.id}"},
    )


async def list_webhook_endpoints(request: web.Request) -> web.Response:
    query = parse_query(request, ListQuery)
    result = await endpoint_queries.list_webhook_endpoints(
        ledger_for(request),
        request[CALLER],
        limit=query.limit,
        after=list_place(query),
        backward=query.backward,
    )
    return page(result.records, has_more=result.has_more, next_cursor=result.next_cursor)


async def get_webhook_endpoint(request: web.Request) -> web.Response:
    endpoint = await endpoint_queries.get_webhook_endpoint(
        ledger_for(request), request[CALLER], _endpoint_id(request)
    )
    return _endpoint_response(endpoint)


async def update_webhook_endpoint(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateWebhookEndpointRequest)
    command = endpoints.UpdateWebhookEndpoint(
        request[CALLER],
        _endpoint_id(request),
        body.changes(),
        expected_version=if_match(request),
        allow_loopback_in_test=request.app[SETTINGS].webhook_allow_loopback_in_test_mode,
    )
    endpoint = await endpoints.update_webhook_endpoint(ledger_for(request), command)
    return _endpoint_response(endpoint)


async def delete_webhook_endpoint(request: web.Request) -> web.Response:
    command = endpoints.DeleteWebhookEndpoint(
        request[CALLER], _endpoint_id(request), expected_version=if_match(request)
    )
    endpoint = await endpoints.delete_webhook_endpoint(ledger_for(request), command)
    return ok({"id": str(endpoint.id), "object": "webhook_endpoint", "deleted": True})


async def rotate_webhook_secret(request: web.Request) -> web.Response:
    body = await parse_body(request, RotateWebhookSecretRequest)
    command = endpoints.RotateWebhookSecret(
        request[CALLER], _endpoint_id(request), body.expire_current_after_seconds
    )
    endpoint, secret = await endpoints.rotate_webhook_secret(ledger_for(request), command)
    expires_at = datetime.now(UTC) + timedelta(seconds=body.expire_current_after_seconds)
    return ok(
        {
            "id": str(endpoint.id),
            "object": "webhook_endpoint_secret",
            "secret": secret,
            "current_secret_expires_at": expires_at.isoformat(),
        }
    )


async def list_webhook_deliveries(request: web.Request) -> web.Response:
    query = parse_query(request, ListQuery)
    result = await endpoint_queries.list_webhook_deliveries(
        ledger_for(request),
        request[CALLER],
        _endpoint_id(request),
        limit=query.limit,
        after=list_place(query),
        backward=query.backward,
    )
    return page(result.records, has_more=result.has_more, next_cursor=result.next_cursor)


async def list_invoice_callbacks(request: web.Request) -> web.Response:
    query = parse_query(request, ListQuery)
    result = await endpoint_queries.list_invoice_callbacks(
        ledger_for(request),
        request[CALLER],
        request.match_info["id"],
        limit=query.limit,
        after=list_place(query),
        backward=query.backward,
    )
    return page(result.records, has_more=result.has_more, next_cursor=result.next_cursor)


async def send_test_webhook(request: web.Request) -> web.Response:
    delivery_id = await endpoints.send_test_webhook(
        ledger_for(request), request[CALLER], _endpoint_id(request)
    )
    return ok(
        {
            "id": str(delivery_id),
            "object": "webhook_delivery",
            "event_type": "webhook_endpoint.test",
            "status": "pending",
        },
        status=202,
    )


async def recover_webhook_deliveries(request: web.Request) -> web.Response:
    query = parse_query(request, RecoverQuery)
    endpoint_id = _endpoint_id(request)
    recovered = await endpoints.recover_webhook_deliveries(
        ledger_for(request), request[CALLER], endpoint_id, query.since
    )
    return ok(
        {
            "object": "webhook_recovery",
            "endpoint_id": str(endpoint_id),
            "since": query.since.isoformat(),
            "recovered": recovered,
        },
        status=202,
    )


async def retry_webhook_delivery(request: web.Request) -> web.Response:
    delivery_id = _uuid(request.match_info["id"], "webhook delivery")
    before = await endpoints.retry_webhook_delivery(
        ledger_for(request), request[CALLER], delivery_id
    )
    return ok(
        {
            "id": str(delivery_id),
            "object": "webhook_delivery",
            "status": "pending",
            "previous_status": before,
        },
        status=202,
    )


def _endpoint_response(endpoint: WebhookEndpoint) -> web.Response:
    return ok(webhook_endpoint_record(endpoint), headers={"ETag": f'"{endpoint.version}"'})


def _endpoint_id(request: web.Request) -> UUID:
    return _uuid(request.match_info["id"], "webhook endpoint")


def _uuid(value: str, kind: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ApiError(404, NotFoundError.code, f"No {kind} with id '{value}'.") from None
