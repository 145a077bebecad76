"""A webhook endpoint's wire document: never with its secret."""

from __future__ import annotations

from typing import Any

from risiti.domain.webhook_endpoint import WebhookEndpoint


def webhook_endpoint_record(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """How an endpoint reads after its creation: never with its secret."""
    return {
        "id": str(endpoint.id),
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "events": endpoint.events,
        "payload_format": endpoint.payload_format,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "livemode": endpoint.livemode,
        "created_at": endpoint.created_on.isoformat(),
    }
