"""The OpenAPI document: valid OpenAPI 3.1, covering every route, and true of the server.

The schemathesis test runs schemathesis's own engine (every phase the CLI runs) over every
operation of the served document, against the real API on a local port (the session's `http`
server), from a worker thread so that the server keeps serving on the event loop meanwhile.
Its examples are derandomized: the same requests every run, so a failure reproduces. Set
RISITI_SCHEMATHESIS_EXAMPLES (per operation) and RISITI_SCHEMATHESIS_SEED to explore further
locally (with `--timeout 0` for a long run).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import jsonschema_rs
import pytest
import schemathesis
import schemathesis.engine
from aiohttp.test_utils import TestClient
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from risiti.api.dialects import DIALECTS, dialect_document, dialect_operations
from risiti.api.routes import OPERATIONS, openapi_document
from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.ledger import Ledger

from .conftest import KREDO_INVOICE, Api, wait_until

pytestmark = pytest.mark.asyncio


async def served_document(http: TestClient[Any, Any]) -> dict[str, Any]:
    response = await http.get("/v1/openapi.json")  # public: no key
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await response.json()
    return document


# The document ------------------------------------------------------------------------------


async def test_document_is_valid_openapi_3_1(http: TestClient[Any, Any]) -> None:
    document = await served_document(http)

    assert document == openapi_document(document["servers"][0]["url"])
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name  # each a JSON Schema 2020-12


async def test_the_router_and_the_document_come_from_the_same_declarations(
    http: TestClient[Any, Any],
) -> None:
    app = http.app
    assert app is not None
    routes = {
        (route.method, route.resource.canonical): route.handler
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    operations = OPERATIONS + dialect_operations()
    declared = {(operation.method, operation.path): operation.handler for operation in operations}
    documents = [("", openapi_document())] + [
        (dialect.base_path, dialect_document(dialect.name)) for dialect in DIALECTS
    ]
    documented = {
        (method.upper(), base_path + path)
        for base_path, document in documents
        for path, item in document["paths"].items()
        for method in item
    }

    assert routes == declared
    assert set(declared) == documented
    assert len({operation.operation_id for operation in operations}) == len(operations)


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
#
# Every operation of the served document, every phase schemathesis has for a live server:
# the document's examples, coverage (each constraint's edges, missing and wrong-typed values,
# unauthenticated calls), generated requests, and stateful sequences along the document's links.
# Path ids are sometimes real ones (objects made before the run, and ids schemathesis captured
# from earlier answers), so the handlers behind a found object are reached too.

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "ignored_auth",  # a request without the key (or with a wrong one) must be refused
)
EXAMPLES_PER_OPERATION = int(os.environ.get("RISITI_SCHEMATHESIS_EXAMPLES", "50"))
SEED = int(os.environ.get("RISITI_SCHEMATHESIS_SEED", "12"))
STATEFUL_STEPS = 6


def _config(base_url: str, key: str, settings_key: str) -> SchemathesisConfig:
    """`settings_key` is another account's: `PATCH /v1/account` may require signed requests,
    which would leave the rest of the run nothing but 401s."""
    return SchemathesisConfig.from_dict(
        {
            # With `deterministic`: the same requests every run, so that a failure reproduces.
            "seed": SEED,
            "cache": {"enabled": False},
            "base-url": base_url,
            "auth": {"openapi": {"bearerAuth": {"bearer": key}}},
            "operations": [
                {
                    "include-operation-id": "updateAccount",
                    "headers": {"Authorization": f"Bearer {settings_key}"},
                }
            ],
            "workers": 1,
            "continue-on-failure": True,
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
                # The key is always sent as configured; `ignored_auth` and coverage send the
                # requests without it, rather than every generated request guessing one.
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
        }
    )


@dataclass(frozen=True)
class Finding:
    """One answer that broke a check, with the request that reproduces it."""

    operation: str
    """The operation's label, `GET /v1/events`."""
    method: str
    path: str
    """As sent, ids filled in."""
    status: int | None
    check: str
    message: str
    phase: str
    curl: str


@dataclass(frozen=True)
class Failure:
    """The findings of one operation with one status: one cause, most likely."""

    findings: tuple[Finding, ...]

    def __str__(self) -> str:
        # The shortest request that shows it is the easiest to read and to replay.
        first = min(self.findings, key=lambda finding: len(finding.curl))
        checks = sorted({finding.check for finding in self.findings})
        return (
            f"{first.method} {first.path} -> {first.status} ({first.operation}; "
            f"{len(self.findings)} found in {first.phase} and others; {', '.join(checks)})\n"
            f"  {first.message.strip()[:500]}\n"
            f"  reproduce: {first.curl}"
        )


@dataclass
class Run:
    """What the run sent and what broke: statuses per operation and phase, and the findings."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    phases: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, event: Any) -> None:
        recorder = event.recorder
        self.phases[str(event.phase.value)] += len(recorder.interactions)
        for case_id, interaction in recorder.interactions.items():
            if interaction.response is not None:
                label = recorder.cases[case_id].value.operation.label
                self.statuses.setdefault(label, Counter())[interaction.response.status_code] += 1
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is not None:
                    self.findings.append(_finding(event, case_id, check.failure_info))

    def failures(self) -> list[Failure]:
        by_cause: dict[tuple[str, int | None], list[Finding]] = {}
        for finding in self.findings:
            by_cause.setdefault((finding.operation, finding.status), []).append(finding)
        return [Failure(tuple(findings)) for findings in by_cause.values()]

    def total(self) -> int:
        return sum(sum(counter.values()) for counter in self.statuses.values())

    def successes(self, label: str) -> int:
        return sum(n for status, n in self.statuses.get(label, Counter()).items() if status < 300)

    def __str__(self) -> str:
        return "\n".join(
            f"{label}: {dict(sorted(counter.items()))}"
            for label, counter in sorted(self.statuses.items())
        )


def _finding(event: Any, case_id: str, info: Any) -> Finding:
    failure = info.failure
    case_id = failure.case_id or case_id  # a check may have sent a request of its own
    case = event.recorder.cases[case_id].value
    interaction = event.recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    return Finding(
        operation=case.operation.label,
        method=case.method.upper(),
        path=case.formatted_path,
        status=response.status_code if response is not None else None,
        check=failure.title,
        message=failure.message,
        phase=str(event.phase.value),
        # A stateful failure needs the requests before it: each step's curl line, in order.
        curl="\n    ".join(
            _replayable(step, case) for step in [s.curl for s in info.steps] or [info.code_sample]
        ),
    )


def _replayable(curl: str, case: Any) -> str:
    """The curl line as one would replay it on `risiti dev` (its RISITI_URL and test key): the
    server of the run is gone by the time anyone reads it."""
    base_url = case.operation.schema.config.base_url
    quoted = curl.replace(f"'{base_url}", '"$RISITI_URL"\'')  # curl quotes a URL with & or ?
    return quoted.replace(base_url, "$RISITI_URL").replace(
        "'Authorization: [Filtered]'", '"Authorization: Bearer $RISITI_TEST_KEY"'
    )


def _run_schemathesis(schema: Any) -> Run:
    run = Run()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            run.record(event)
        elif isinstance(event, events.NonFatalError):
            run.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            run.errors.append(f"fatal: {event.exception!r}")
    return run


def _with_known_ids(schema: Any, known: dict[str, list[str]]) -> None:
    """Half of the generated path parameters name an object that exists: for a path under one
    of `known`'s prefixes, its one parameter is drawn from that prefix's ids."""

    def ids_for(path: str) -> list[str]:
        return next((ids for prefix, ids in known.items() if path.startswith(prefix)), [])

    @schema.hook
    def flatmap_path_parameters(context: Any, parameters: dict[str, Any]) -> Any:
        ids = ids_for(context.operation.path) if context.operation is not None else []
        if not ids or not parameters or len(parameters) != 1:
            return st.just(parameters)
        (name,) = parameters
        return st.one_of(st.just(parameters), st.sampled_from(ids).map(lambda id_: {name: id_}))


async def _objects_of_every_kind(api: Api) -> dict[str, list[str]]:
    """One or more of each object a path names, in the states that matter to the handlers."""
    invoices, tokens = [], []
    for body in _STARTING_INVOICES:
        status, created = await api.post("/v1/invoices", body)
        assert status == 201, created
        invoices.append(created["data"]["id"])
        if created["data"]["document_number"]:
            invoices.append(created["data"]["document_number"])
        if created["data"]["view_url"]:
            tokens.append(created["data"]["view_url"].rsplit("/", 1)[1])
    _, customer = await api.post("/v1/customers", {"name": "Ada", "email": "ada@example.com"})
    _, product = await api.post("/v1/products", {"sku": "RICE", "name": "Rice", "unit_price": 100})
    _, endpoint = await api.post(
        "/v1/webhook-endpoints", {"url": "https://example.com/hooks", "events": ["*"]}
    )
    endpoint_id = endpoint["data"]["id"]
    test_status, delivery = await api.post(f"/v1/webhook-endpoints/{endpoint_id}/test", {})
    assert test_status == 202, delivery
    return {
        "/v1/invoices/": invoices,
        "/v1/customers/": [customer["data"]["id"]],
        "/v1/products/": [product["data"]["id"]],
        "/v1/webhook-endpoints/": [endpoint_id],
        "/v1/webhook-deliveries/": [delivery["data"]["id"]],
        "/i/": tokens,
    }


_STARTING_INVOICES: list[dict[str, Any]] = [
    {**KREDO_INVOICE, "status": "draft"},
    {**KREDO_INVOICE, "status": "draft", "accept_partial_payments": True},
    KREDO_INVOICE,
    {**KREDO_INVOICE, "accept_partial_payments": True},
    {**KREDO_INVOICE, "type": "receipt"},
]


async def _switch_off_fuzzed_webhooks(pool: asyncpg.Pool, account_ids: list[UUID]) -> None:
    """The run registers endpoints at made-up addresses; left on, their deliveries keep the
    session's worker retrying for the rest of the suite and starve later tests' jobs."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE webhook_endpoints SET enabled = false WHERE account_id = ANY($1)", account_ids
        )
        await conn.execute(
            "UPDATE webhook_deliveries SET status = 'failed', updated_at = now()"
            " WHERE account_id = ANY($1) AND status = 'pending'",
            account_ids,
        )


# Bounded by the examples per operation and the stateful steps, not by time: about 90 s here
# (2 cores); the ceiling is the one test allowed more than the suite's 120 s, for a loaded CI.
@pytest.mark.timeout(300)
async def test_schemathesis_finds_no_server_error_and_no_nonconforming_answer(
    http: TestClient[Any, Any],
    api: Api,
    account: OpenedAccount,
    ledger: Ledger,
    pool: asyncpg.Pool,
    projector: None,
) -> None:
    document = await served_document(http)
    base_url = str(http.make_url("/")).rstrip("/")
    other = await open_account(ledger, "Settings Fuzzed")
    config = _config(base_url, api.key, other.test_key)
    schema = schemathesis.openapi.from_dict(document, config=config)
    _with_known_ids(schema, await _objects_of_every_kind(api))

    started = time.monotonic()
    try:
        run = await asyncio.to_thread(_run_schemathesis, schema)
    finally:
        await _switch_off_fuzzed_webhooks(pool, [account.account_id, other.account_id])

    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {run.total()} requests in {elapsed:.0f} s, {dict(run.phases)}\n{run}")
    failures = run.failures()
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(map(str, failures))
    assert not run.errors, "\n".join(run.errors)
    every_operation = {f"{op.method} {op.path}" for op in OPERATIONS}
    assert set(run.statuses) == every_operation, every_operation - set(run.statuses)
    # The run reached the handlers: objects were created, read and changed, not only refused.
    for label in ("POST /v1/invoices", "GET /v1/invoices/{id}", "PATCH /v1/invoices/{id}"):
        assert run.successes(label) > 0, f"{label} never succeeded:\n{run}"
