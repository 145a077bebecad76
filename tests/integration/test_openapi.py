"""The OpenAPI document: valid OpenAPI 3.1, covering every route, and true of the server.

The schemathesis test sends generated requests to the real API on a local port (the session's
`http` server) from a worker thread, so the server keeps serving on the event loop meanwhile.
Its examples are derandomized: the same requests every run, so a failure reproduces. Set
RISITI_SCHEMATHESIS_EXAMPLES to explore further locally.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from typing import Any

import hypothesis
import jsonschema_rs
import pytest
import requests
import schemathesis
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from risiti.api.openapi import OPERATIONS, openapi_document

from .conftest import KREDO_INVOICE, Api, wait_until

pytestmark = pytest.mark.asyncio

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
INVOICE_PATHS = r"^/v1/invoices"
EXAMPLES_PER_OPERATION = int(os.environ.get("RISITI_SCHEMATHESIS_EXAMPLES", "50"))
STATEFUL_SCENARIOS = max(EXAMPLES_PER_OPERATION // 2, 1)


async def served_document(http: TestClient[Any, Any]) -> dict[str, Any]:
    response = await http.get("/v1/openapi.json")  # public: no key
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await response.json()
    return document


# The document ------------------------------------------------------------------------------


async def test_document_is_valid_openapi_3_1(http: TestClient[Any, Any]) -> None:
    document = await served_document(http)

    assert document == openapi_document()
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name  # each a JSON Schema 2020-12


async def test_every_route_of_the_app_is_documented_and_nothing_else(
    http: TestClient[Any, Any],
) -> None:
    app = http.app
    assert app is not None
    routes = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {
        (method.upper(), path)
        for path, item in openapi_document()["paths"].items()
        for method in item
    }

    assert documented == routes
    assert len({operation.operation_id for operation in OPERATIONS}) == len(OPERATIONS)


async def test_every_error_answer_is_the_error_envelope() -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and not path.startswith("/i/"):  # the hosted page is HTML
                    where = (method, path, status)
                    assert response["$ref"].startswith("#/components/responses/"), where
    for response in document["components"]["responses"].values():
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}


# The document against answers the fuzzer rarely reaches -----------------------------------


def conformance_errors(body: Any, component: str) -> list[str]:
    """Where `body` breaks the document's `component` schema (formats checked too)."""
    validator = jsonschema_rs.validator_for(
        {
            "$ref": f"#/components/schemas/{component}",
            "components": openapi_document()["components"],
        },
        validate_formats=True,
    )
    return [f"{error.instance_path}: {error.message}" for error in validator.iter_errors(body)]


async def test_invoice_answers_in_every_state_conform(api: Api, projector: None) -> None:
    _, tax_rate = await api.post("/v1/tax-rates", {"name": "VAT", "percentage": "7.5"})
    _, customer = await api.post("/v1/customers", {"name": "Ada", "email": "ada@example.com"})
    _, product = await api.post("/v1/products", {"sku": "BOX", "name": "Box", "unit_price": 500})
    _, created = await api.post(
        "/v1/invoices",
        {
            "customer_id": customer["data"]["id"],
            "accept_partial_payments": True,
            "max_installments": 3,
            "issue_date": "2019-12-01",
            "due_date": "2020-01-01",
            "items": [
                {"name": "Half a kilo", "quantity": 0.5, "unit_price": 1001},
                {"description": "Box", "unit_price": 500, "product_id": product["data"]["id"]},
            ],
            "tax": {"value": "7.5", "description": "VAT", "inclusive": True},
            "tax_rate_ids": [tax_rate["data"]["id"]],
            "discount": {"type": "percentage", "value": 10},
            "shipping_fee": 300,
            "metadata": {"order": 7, "tags": ["a"]},
            "reference": "PO-1",
            "note": "Thanks",
            "description": "Groceries",
        },
    )
    invoice = f"/v1/invoices/{created['data']['id']}"
    answers: list[tuple[dict[str, Any], str]] = [(created, "InvoiceResponse")]
    for path, body in [
        (f"{invoice}/payments", {"amount": 100, "reference": "T1", "method": "cash"}),
        (f"{invoice}/send", {"phone": "+2348000000000", "email": "ada@example.com"}),
        (f"{invoice}/mark-paid", {"paid_at": "2024-01-01T10:00:00+01:00"}),
        (f"{invoice}/mark-unpaid", {"reason": "bounced"}),
        (f"{invoice}/void", {}),
    ]:
        status, answer = await api.post(path, body)
        assert status < 300, (path, answer)
        answers.append((answer, "InvoiceResponse"))
    answers.append(((await api.get(invoice))[1], "InvoiceResponse"))
    _, draft = await api.post("/v1/invoices", {**KREDO_INVOICE, "status": "draft"})
    answers.append((draft, "InvoiceResponse"))
    _, receipt = await api.post("/v1/invoices", {**KREDO_INVOICE, "type": "receipt"})
    answers.append((receipt, "InvoiceResponse"))
    deleted = await api.http.delete(
        f"/v1/invoices/{draft['data']['id']}", headers={"Authorization": f"Bearer {api.key}"}
    )
    answers.append((await deleted.json(), "DeletedInvoiceResponse"))
    first = await wait_until(lambda: _first_of_two(api))  # the voided invoice and the receipt
    _, second = await api.get("/v1/invoices", limit=1, cursor=first["next_cursor"])
    answers += [(first, "InvoiceList"), (second, "InvoiceList")]
    answers.append(((await api.get(invoice + "x"))[1], "ErrorEnvelope"))
    answers.append(((await api.post("/v1/invoices", {"items": []}))[1], "ErrorEnvelope"))
    answers.append(((await api.post(f"{invoice}/finalize", {}))[1], "ErrorEnvelope"))

    for body, component in answers:
        assert not conformance_errors(body, component), (component, body)


async def _first_of_two(api: Api) -> dict[str, Any] | None:
    """The first page of one, once the list holds two invoices."""
    _, page = await api.get("/v1/invoices", limit=1)
    return page if page["has_more"] else None


async def test_other_resources_answers_conform(api: Api) -> None:
    answers = [
        (
            await api.post("/v1/customers", {"name": "Ada", "metadata": {"x": 1}}),
            "CustomerResponse",
        ),
        (await api.get("/v1/customers"), "CustomerList"),
        (await api.post("/v1/tax-rates", {"name": "VAT", "percentage": 7.5}), "TaxRateResponse"),
        (await api.get("/v1/tax-rates", limit=1), "TaxRateList"),
        (await api.get("/v1/account"), "AccountResponse"),
        (
            await api.post(
                "/v1/webhook-endpoints", {"url": "https://example.com/h", "events": ["*"]}
            ),
            "WebhookEndpointResponse",
        ),
    ]
    customer_id = answers[0][0][1]["data"]["id"]
    answers.append((await api.get(f"/v1/customers/{customer_id}"), "CustomerResponse"))
    product = await api.post(
        "/v1/products", {"sku": "RICE", "name": "Rice", "unit_price": 100, "stock": 5}
    )
    product_path = f"/v1/products/{product[1]['data']['id']}"
    adjustment = {"delta": -1, "reference": "POS-1"}
    answers += [
        (product, "ProductResponse"),
        (await api.get(product_path), "ProductResponse"),
        (await api.get("/v1/products"), "ProductList"),
        (await api.post(f"{product_path}/adjustments", adjustment), "StockAdjustmentResponse"),
        (await api.post(f"{product_path}/adjustments", adjustment), "StockAdjustmentResponse"),
    ]

    for (status, body), component in answers:
        assert status < 300, body
        assert not conformance_errors(body, component), (component, body)


# Schemathesis against the server -----------------------------------------------------------


def _settings(max_examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples every run: a failure reproduces
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        stateful_step_count=6,
    )


class Stats:
    """How many requests each operation got, by status: shows the run reached the handlers."""

    def __init__(self) -> None:
        self.statuses: dict[str, Counter[int]] = {}

    def record(self, case: Any, status: int) -> None:
        self.statuses.setdefault(case.operation.label, Counter())[status] += 1

    def total(self) -> int:
        return sum(sum(counter.values()) for counter in self.statuses.values())

    def successes(self, label: str) -> int:
        return sum(n for status, n in self.statuses.get(label, Counter()).items() if status < 300)

    def __str__(self) -> str:
        return "\n".join(
            f"{label}: {dict(sorted(counter.items()))}" for label, counter in self.statuses.items()
        )


def _fuzz_operations(schema: Any, invoice_ids: list[str], stats: Stats) -> list[str]:
    """Schemathesis's examples for each invoice operation, each answer checked; an operation
    on one invoice gets a random `id` or one of `invoice_ids`. The failures, one each."""
    failures: list[str] = []
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy()
        if "{id}" in operation.path:
            strategy = st.one_of(strategy, _on_known(operation, invoice_ids))

        @_settings(EXAMPLES_PER_OPERATION)
        @hypothesis.given(case=strategy)
        def run(case: Any) -> None:
            response = case.call_and_validate(session=session, checks=CHECKS)
            stats.record(case, response.status_code)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # each reported, then asserted
            failures.append(f"{operation.label}: {error}")
    return failures


def _on_known(operation: Any, invoice_ids: list[str]) -> st.SearchStrategy[Any]:
    """The operation's examples on one of the invoices that exist."""

    def on(invoice_id: str) -> st.SearchStrategy[Any]:
        strategy: st.SearchStrategy[Any] = operation.as_strategy(path_parameters={"id": invoice_id})
        return strategy

    return st.sampled_from(invoice_ids).flatmap(on)


def _run_stateful(schema: Any, stats: Stats) -> list[str]:
    """Sequences that follow the document's links: create an invoice, then act on it."""

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            stats.record(case, response.status_code)
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    try:
        Machine.run(settings=_settings(STATEFUL_SCENARIOS))
    except (Exception, BaseExceptionGroup) as error:
        return [f"stateful: {error}"]
    return []


_STARTING_INVOICES: list[dict[str, Any]] = [
    {**KREDO_INVOICE, "status": "draft"},
    {**KREDO_INVOICE, "status": "draft", "accept_partial_payments": True},
    KREDO_INVOICE,
    {**KREDO_INVOICE, "accept_partial_payments": True},
    {**KREDO_INVOICE, "type": "receipt"},
]


async def test_schemathesis_finds_no_server_error_and_no_nonconforming_answer(
    http: TestClient[Any, Any], api: Api, projector: None
) -> None:
    document = await served_document(http)
    schema = schemathesis.openapi.from_dict(document).include(path_regex=INVOICE_PATHS)
    base_url = str(http.make_url("/")).rstrip("/")
    schema.config.update(base_url=base_url, headers={"Authorization": f"Bearer {api.key}"})
    invoice_ids = []
    for body in _STARTING_INVOICES:
        status, created = await api.post("/v1/invoices", body)
        assert status == 201, created
        invoice_ids.append(created["data"]["id"])
    stats = Stats()

    failures = await asyncio.to_thread(_fuzz_operations, schema, invoice_ids, stats)
    failures += await asyncio.to_thread(_run_stateful, schema, stats)

    print(f"\nschemathesis: {stats.total()} requests\n{stats}")
    assert not failures, "\n\n".join(failures)
    # The run reached the handlers: invoices were created, read and changed, not only refused.
    for label in ("POST /v1/invoices", "GET /v1/invoices/{id}", "PATCH /v1/invoices/{id}"):
        assert stats.successes(label) > 0, f"{label} never succeeded:\n{stats}"
