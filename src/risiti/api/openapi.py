"""The OpenAPI 3.1 document, assembled from the operations table (`risiti.api.routes`).

Request bodies and query parameters come from the request models (validation mode), responses
from `risiti.api.schemas` (serialization mode), and the error envelope for the error statuses;
what is said once for the whole API (tags, errors, headers, webhooks) is here. Pydantic's own
JSON Schema is adjusted for clients in `risiti.api.json_schema`. About half of this module is
those API-wide texts (error responses, webhook summaries and headers), kept beside the code that
places them in the document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from risiti.api import schemas
from risiti.api.errors import EdgeCode
from risiti.api.json_schema import for_clients, standard, without_null
from risiti.api.operation import Operation, Raw
from risiti.commands.errors import (
    ConcurrentUpdateError,
    ExternalIdTakenError,
    NotFoundError,
    SignatureError,
    SkuTakenError,
)
from risiti.commands.paystack import PaystackNotConfiguredError
from risiti.domain.errors import (
    InsufficientStockError,
    InvalidFieldError,
    InvalidStateError,
    PaymentExceedsBalanceError,
)

REF = "#/components/schemas/{model}"
# The `$ref` of each (model, mode) in the document's components.
Refs = dict[tuple[type[Any], str], Any]


TAGS: list[dict[str, str]] = [
    {"name": "Invoices", "description": "Invoices and receipts, and what is done to them."},
    {"name": "Customers", "description": "The account's saved customers."},
    {"name": "Products", "description": "The catalogue and its stock (docs/api.md, Inventory)."},
    {"name": "Tax rates", "description": "Saved tax rates an invoice copies."},
    {"name": "Account", "description": "The caller's account and its settings."},
    {"name": "Integrations", "description": "Callbacks from payment providers."},
    {"name": "Balances", "description": "Balances and the aging report, per currency."},
    {"name": "Events", "description": "The account's public events, as webhooks carry them."},
    {"name": "Webhooks", "description": "Endpoints that receive the events, and deliveries."},
    {"name": "Auditing", "description": "The log as auditors read it (docs/auditing.md)."},
    {"name": "Health", "description": "Probes and metrics for operators."},
    {"name": "Hosted", "description": "The pages a customer opens, without a key."},
    {"name": "Meta", "description": "This document."},
]

# What each webhook says happened (DESIGN.md §7; docs/api.md, Webhook endpoints).
WEBHOOK_SUMMARIES: dict[str, str] = {
    "invoice.created": "An invoice was created, as a draft or issued at once",
    "invoice.finalized": "A draft was issued and numbered",
    "invoice.updated": "An invoice was changed, or its payments were reversed",
    "invoice.sent": "An invoice was sent on one channel (email or text)",
    "invoice.payment_recorded": "A payment was recorded on an invoice",
    "invoice.partially_paid": "A payment left part of the invoice due",
    "invoice.paid": "An invoice was paid in full",
    "invoice.overdue": "An open invoice passed its due date",
    "invoice.voided": "An invoice was voided",
    "invoice.deleted": "A draft was deleted",
    "receipt.created": "A receipt was issued, paid",
    "customer.created": "A customer was created",
    "product.stock_low": "A product's stock fell to its low-stock threshold or below",
    "product.out_of_stock": "A product's stock fell to zero or below",
    "inventory.adjusted": "A product's stock changed",
    "webhook_endpoint.disabled": "Risiti disabled this endpoint: it answered 410, or failed for "
    "days",
    "webhook_endpoint.test": "The test event `POST /v1/webhook-endpoints/{id}/test` asked for, "
    "sent whatever the endpoint subscribed to",
}

# The Standard Webhooks headers every delivery carries.
WEBHOOK_HEADERS: list[dict[str, Any]] = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The event's id (the payload's `id`): the same on every attempt.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Seconds since the Unix epoch when this attempt was signed.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per unexpired "
        "secret, space-separated; any Standard Webhooks library verifies it.",
        "schema": {"type": "string"},
    },
]

# The error responses, each the error envelope with the codes it carries.
ERRORS: dict[int, tuple[str, str]] = {
    400: (
        "InvalidJson",
        f"`{EdgeCode.INVALID_JSON}`: the body is not a JSON object, or nests more than 64 deep.",
    ),
    401: (
        "Unauthorized",
        f"`{EdgeCode.AUTHENTICATION_REQUIRED}`, `{EdgeCode.INVALID_API_KEY}`, "
        f"`{EdgeCode.SIGNATURE_REQUIRED}`, `{SignatureError.code}`, "
        f"`{EdgeCode.SIGNATURE_REPLAYED}` or (Paystack's webhook) "
        f"`{PaystackNotConfiguredError.code}`.",
    ),
    404: ("NotFound", f"`{NotFoundError.code}`: no such object for this key's account and mode."),
    409: (
        "Conflict",
        f"`{InvalidStateError.code}` (the object's status does not allow this; `details` says "
        f"what it allows), `{PaymentExceedsBalanceError.code}`, `{InsufficientStockError.code}`, "
        f"`{SkuTakenError.code}`, `{ExternalIdTakenError.code}` (`details` names the object that "
        f"has it), or `{EdgeCode.IDEMPOTENCY_KEY_IN_USE}`.",
    ),
    412: (
        "VersionConflict",
        f"`{ConcurrentUpdateError.code}`: the object changed since the version `If-Match` "
        "names, or concurrently.",
    ),
    413: ("PayloadTooLarge", f"`{EdgeCode.PAYLOAD_TOO_LARGE}`."),
    415: (
        "UnsupportedMediaType",
        f"`{EdgeCode.UNSUPPORTED_MEDIA_TYPE}`: the body was not sent as `application/json`.",
    ),
    422: (
        "ValidationError",
        f"`{InvalidFieldError.code}` (`details` lists `{{field, message}}`) or "
        f"`{EdgeCode.IDEMPOTENCY_KEY_REUSED}`.",
    ),
    429: (
        "RateLimited",
        f"`{EdgeCode.RATE_LIMITED}`: this key sent more requests than its rate allows; send again "
        "after `Retry-After` seconds.",
    ),
    503: (
        "ServiceUnavailable",
        f"`{EdgeCode.SERVICE_UNAVAILABLE}`: try again soon (after `Retry-After`).",
    ),
}

# What else than its id names the object of a path (docs/api.md).
PATH_IDS = {
    "/v1/invoices/": "The invoice's id or document number",
    "/v1/customers/": "The customer's id or external_id",
    "/v1/tax-rates/": "The tax rate's id or external_id",
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Retrying with the same key and body answers the first response again.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": 'The `ETag` (version) you last read, such as `"3"`; refused with 412 if '
        "the invoice has changed since.",
        "schema": {"type": "string", "pattern": '^(\\*|(W/)?"?[0-9]+"?)$'},
    },
}

HEADERS: dict[str, dict[str, Any]] = {
    "RequestId": {
        "description": "This request's id, as in the error envelope's `request_id`.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": 'The version of the resource, such as `"3"`; send it as `If-Match`.',
        "schema": {"type": "string"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before sending again.",
        "schema": {"type": "integer", "minimum": 0},
    },
}


@dataclass(frozen=True)
class Edition:
    """What one OpenAPI document says of its API as a whole: Risiti's own (`NATIVE`), or a seed
    dialect's (DESIGN.md §11), whose paths are written under its base path and whose errors
    come in its own envelope."""

    title: str
    description: str
    tags: list[dict[str, str]]
    error_model: type[BaseModel] = schemas.ErrorEnvelope
    base_path: str = ""
    """Prefixed to `servers`' URL and removed from each operation's path."""
    webhooks: bool = True


NATIVE = Edition(
    title="Risiti API",
    description="Event-sourced invoicing. Amounts are integers in minor units. "
    "Every answer is an envelope: `{success: true, data}` or "
    "`{success: false, error: {code, message, details?, request_id}}`.",
    tags=TAGS,
)


def document(
    operations: Sequence[Operation], base_url: str | None, edition: Edition = NATIVE
) -> dict[str, Any]:
    """The document of `operations`; served at `base_url`, it names it in `servers`."""
    components, refs = _model_schemas(operations, edition)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        item = paths.setdefault(operation.path.removeprefix(edition.base_path), {})
        item[operation.method.lower()] = _operation(operation, refs, components)
    servers = (
        []
        if base_url is None
        else [{"url": base_url + edition.base_path, "description": "This server."}]
    )
    error_model = edition.error_model.__name__
    return {
        "openapi": "3.1.0",
        "info": {"title": edition.title, "version": "1", "description": edition.description},
        **({"servers": servers} if servers else {}),
        "tags": edition.tags,
        "paths": paths,
        **({"webhooks": _webhooks(refs)} if edition.webhooks else {}),
        "components": {
            "schemas": components,
            "responses": {
                name: _error_response(status, description, error_model)
                for status, (name, description) in ERRORS.items()
            },
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A secret key: `sk_test_…` or `sk_live_…`.",
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }


def _model_schemas(
    operations: Sequence[Operation], edition: Edition
) -> tuple[dict[str, Any], Refs]:
    """The components' schemas, and the reference to each (model, mode) in them."""
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(edition.error_model, "serialization")}
    if edition.webhooks:
        wanted |= {(payload, "serialization") for payload in schemas.WEBHOOK_PAYLOADS.values()}
    for operation in operations:
        for request_model in (operation.body, operation.form):
            if request_model is not None:
                wanted.add((request_model, "validation"))
        for answer in operation.responses.values():
            if not isinstance(answer, Raw):
                wanted.add((answer, "serialization"))
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, document = models_json_schema(ordered, ref_template=REF)
    components = for_clients(document.get("$defs", {}))
    by_model: Refs = {}
    for (model, mode), ref in refs.items():
        by_model[(model, mode)] = ref
    return components, by_model


def _operation(
    operation: Operation,
    refs: Refs,
    components: dict[str, Any],
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": _parameters(operation, components),
        "responses": _responses(operation, refs),
    }
    if operation.public:
        spec["security"] = []
    if operation.body is not None:
        media: dict[str, Any] = {"schema": refs[(operation.body, "validation")]}
        if operation.example is not None:
            media["examples"] = {"example": {"value": operation.example}}
        spec["requestBody"] = {
            "required": _body_required(operation.body),
            "content": {"application/json": media},
        }
    if operation.form is not None:
        form = {"schema": refs[(operation.form, "validation")]}
        spec["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": form},
        }
    if not spec["parameters"]:
        del spec["parameters"]
    return spec


def _body_required(model: type[BaseModel]) -> bool:
    """Whether a body must be sent: an absent body reads as `{}`, which a model with a required
    field (a payment's `amount`) refuses, and a model of optional fields takes."""
    return any(info.is_required() for info in model.model_fields.values())


def _parameters(operation: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in operation.path_names:
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": next(
                    (said for path, said in PATH_IDS.items() if operation.path.startswith(path)),
                    f"The {name}",
                ),
                "schema": {"type": "string", "minLength": 1},
            }
        )
    if operation.query is not None:
        parameters.extend(_query_parameters(operation.query, components))
    if operation.method == "POST" and not operation.public:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if operation.if_match:
        parameters.append({"$ref": "#/components/parameters/IfMatch"})
    return parameters


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    """One query parameter per field of a query model; `null` means absent in a query."""
    schema = standard(model.model_json_schema(mode="validation", ref_template=REF))
    components.update(schema.get("$defs", {}))
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": without_null(prop),
        }
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


def _responses(operation: Operation, refs: Refs) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, answer in sorted(operation.responses.items()):
        if isinstance(answer, Raw):
            responses[str(status)] = {
                "description": answer.description,
                "content": {answer.media_type: {"schema": answer.schema}},
            }
            continue
        headers = {"Request-Id": {"$ref": "#/components/headers/RequestId"}}
        if operation.etag:
            headers["ETag"] = {"$ref": "#/components/headers/ETag"}
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "headers": headers,
            "content": {"application/json": {"schema": refs[(answer, "serialization")]}},
        }
        if operation.links:
            responses[str(status)]["links"] = _links(operation)
    for status in sorted(set(operation.errors) | _implied_errors(operation)):
        if str(status) not in responses:
            responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    return responses


def _implied_errors(operation: Operation) -> set[int]:
    """What every operation of this shape may answer: 401/429/503 behind the key (and on a
    GET 422 for a query parameter it does not take), 400/413/415/422 with a body, 404 for a
    path id or a list's `starting_after` that names no object, 422/412 with If-Match, 409/422
    of an Idempotency-Key on a POST."""
    implied: set[int] = set()
    if not operation.public:
        implied |= {401, 429, 503}
        if operation.method == "GET":
            implied.add(422)
    if operation.body is not None:
        implied |= {400, 413, 415, 422}
    if operation.query is not None:
        implied.add(422)
        if "starting_after" in operation.query.model_fields:
            implied.add(404)
    if operation.path_names and not operation.public:
        implied.add(404)
    if operation.if_match:
        implied |= {412, 422}
    if operation.method == "POST" and not operation.public:
        implied |= {409, 422}
    return implied


def _error_response(status: int, description: str, error_model: str) -> dict[str, Any]:
    headers = {"Request-Id": {"$ref": "#/components/headers/RequestId"}}
    if status in (429, 503):
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=error_model)}}},
    }


def _webhooks(refs: Refs) -> dict[str, Any]:
    """Every event type the server sends, as the request it makes to a subscribed endpoint."""
    return {
        event_type: {
            "post": {
                "operationId": _camel_case(event_type) + "Webhook",
                "summary": WEBHOOK_SUMMARIES[event_type],
                "tags": ["Webhooks"],
                "security": [],
                "parameters": WEBHOOK_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": refs[(payload, "serialization")]}},
                },
                "responses": {
                    "2XX": {"description": "Delivered: any 2xx within 15 s."},
                    "410": {"description": "Gone: Risiti disables the endpoint."},
                    "4XX": {
                        "description": "Failed: retried on the schedule of DESIGN.md §7 "
                        "(after `Retry-After` on a 429)."
                    },
                },
            }
        }
        for event_type, payload in schemas.WEBHOOK_PAYLOADS.items()
    }


def _camel_case(event_type: str) -> str:
    first, *rest = re.split(r"[._]", event_type)
    return first + "".join(word.capitalize() for word in rest)


def _links(operation: Operation) -> dict[str, Any]:
    return {
        name: {"operationId": target, "parameters": {"id": "$response.body#/data/id"}}
        for name, target in operation.links.items()
    }
