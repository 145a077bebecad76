"""The OpenAPI document says what a client needs: where the server is, which webhooks it sends
and what they carry, which event types exist, which bodies are required, the seed aliases, and
every operation's client errors. The document is checked by openapi-spec-validator too."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import openapi_spec_validator
import pytest
from aiohttp.test_utils import TestClient

from risiti.api.schemas import SENT_EVENT_TYPES
from risiti.config import Settings
from risiti.domain.webhook_endpoint import EVENT_TYPES

from .conftest import KREDO_INVOICE, Api, wait_until

pytestmark = pytest.mark.asyncio


async def served(http: TestClient[Any, Any]) -> dict[str, Any]:
    response = await http.get("/v1/openapi.json")
    assert response.status == 200
    document: dict[str, Any] = await response.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


async def test_the_served_document_passes_openapi_spec_validator(
    http: TestClient[Any, Any],
) -> None:
    openapi_spec_validator.validate(await served(http))


async def test_the_document_names_the_configured_public_url_as_its_server(
    http: TestClient[Any, Any], settings: Settings
) -> None:
    document = await served(http)

    assert [server["url"] for server in document["servers"]] == [settings.base_url]


async def test_every_event_type_is_a_webhook_with_its_payload_schema(
    http: TestClient[Any, Any],
) -> None:
    document = await served(http)
    webhooks = document["webhooks"]

    assert set(webhooks) == {*EVENT_TYPES, "webhook_endpoint.test"}
    for event_type, item in webhooks.items():
        body = item["post"]["requestBody"]
        assert body["required"] is True
        schema = body["content"]["application/json"]["schema"]
        payload = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        assert event_type in payload["properties"]["event"]["enum"], event_type
        assert set(payload["required"]) == {"id", "event", "environment", "created_at", "data"}
        headers = {p["name"] for p in item["post"]["parameters"]}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}


async def test_endpoints_that_take_event_types_list_them(http: TestClient[Any, Any]) -> None:
    schemas = (await served(http))["components"]["schemas"]
    subscribable = [*EVENT_TYPES, "*"]

    create = schemas["CreateWebhookEndpointRequest"]["properties"]["events"]
    assert create["items"]["enum"] == subscribable
    update = schemas["UpdateWebhookEndpointRequest"]["properties"]["events"]
    assert [branch["items"]["enum"] for branch in update["anyOf"] if "items" in branch] == [
        subscribable
    ]
    assert schemas["WebhookEndpointView"]["properties"]["events"]["items"]["enum"] == subscribable
    assert schemas["Event"]["properties"]["event"]["enum"] == list(SENT_EVENT_TYPES)


async def test_an_unlisted_event_type_is_refused_as_the_document_says(api: Api) -> None:
    status, body = await api.post(
        "/v1/webhook-endpoints", {"url": "https://example.com/h", "events": ["invoice.eaten"]}
    )

    assert status == 422
    assert body["error"]["code"] == "validation_error"


async def test_a_body_is_required_exactly_where_the_server_requires_one(
    http: TestClient[Any, Any], api: Api
) -> None:
    document = await served(http)
    bodies = {
        (method, path): operation["requestBody"]["required"]
        for method, path, operation in operations(document)
        if "requestBody" in operation
    }

    assert bodies[("post", "/v1/invoices/{id}/payments")] is True
    assert bodies[("post", "/v1/invoices")] is True
    assert bodies[("post", "/v1/invoices/{id}/void")] is False
    assert bodies[("patch", "/v1/invoices/{id}")] is False
    # The server agrees: no body is no amount, and a void needs no reason.
    _, invoice = await api.post("/v1/invoices", KREDO_INVOICE)
    path = f"/v1/invoices/{invoice['data']['id']}"
    headers = {"Authorization": f"Bearer {api.key}"}
    unpaid = await api.http.post(f"{path}/payments", headers=headers)
    assert unpaid.status == 422
    voided = await api.http.post(f"{path}/void", headers=headers)
    assert voided.status == 200


async def test_the_seed_aliases_are_documented_as_properties(
    http: TestClient[Any, Any],
) -> None:
    schemas = (await served(http))["components"]["schemas"]

    item = schemas["ItemIn"]["properties"]
    assert {"qty", "price", "rate"} <= set(item)
    assert "`quantity`" in item["qty"]["description"]
    assert "`unit_price`" in item["rate"]["description"]
    assert {"recipient_ref", "recipient"} <= set(schemas["CreateInvoiceRequest"]["properties"])


async def test_no_request_schema_is_a_combination_clients_cannot_model(
    http: TestClient[Any, Any],
) -> None:
    document = await served(http)
    for method, path, operation in operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            name = media["schema"]["$ref"].rsplit("/", 1)[1]
            schema = document["components"]["schemas"][name]
            combined = {"anyOf", "oneOf", "allOf"} & set(schema)
            assert not combined, (method, path, name, combined)


async def test_every_operation_behind_the_key_lists_its_client_errors(
    http: TestClient[Any, Any],
) -> None:
    for method, path, operation in operations(await served(http)):
        if operation.get("security") == []:
            continue  # public: docs/api.md ("OpenAPI document") says which answer no 4xx
        statuses = set(operation["responses"])
        assert {"401", "429"} <= statuses, (method, path)
        if "{id}" in path:
            assert "404" in statuses, (method, path)


async def test_the_event_feed_carries_exactly_the_webhooks_payload_schemas(
    http: TestClient[Any, Any], api: Api, projector: None
) -> None:
    document = await served(http)
    await api.post("/v1/customers", {"name": "Ada"})
    _, product = await api.post(
        "/v1/products", {"sku": "BOX", "name": "Box", "unit_price": 500, "stock": 3}
    )
    await api.post(f"/v1/products/{product['data']['id']}/adjustments", {"delta": -3})
    _, invoice = await api.post("/v1/invoices", {**KREDO_INVOICE, "accept_partial_payments": True})
    path = f"/v1/invoices/{invoice['data']['id']}"
    await api.post(f"{path}/payments", {"amount": 100})
    await api.post(f"{path}/mark-paid", {})
    await api.post("/v1/invoices", {**KREDO_INVOICE, "type": "receipt"})
    expected = {
        "customer.created",
        "inventory.adjusted",
        "product.out_of_stock",
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_recorded",
        "invoice.partially_paid",
        "invoice.paid",
        "receipt.created",
    }

    async def all_in_feed() -> list[dict[str, Any]] | None:
        _, feed = await api.get("/v1/events", limit=100)
        events: list[dict[str, Any]] = feed["data"]
        return events if expected <= {event["event"] for event in events} else None

    for event in await wait_until(all_in_feed):
        schema = document["webhooks"][event["event"]]["post"]["requestBody"]["content"]
        validator = jsonschema_rs.validator_for(
            {**schema["application/json"]["schema"], "components": document["components"]},
            validate_formats=True,
        )
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(event)]
        assert not errors, (event["event"], errors)
