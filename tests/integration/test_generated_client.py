"""A client generated from `/v1/openapi.json` works: what an integrator gets from the document.

openapi-python-client generates a Python client from the document the live test server serves
(offline, into a temporary folder, with no formatter run over it); the test imports it and
creates, reads, lists, pays and voids invoices with it against the real server. A schema the
generator cannot build a model of (a top-level `anyOf` once broke `create_invoice`) fails here.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from .conftest import Api, wait_until

pytestmark = pytest.mark.asyncio

PACKAGE = "risiti_generated_client"
# No post hooks: the generator would run ruff over its output, which a CI machine may lack on
# PATH and which changes nothing that matters here. The PDFs are bytes to a client.
CONFIG = f"""\
package_name_override: {PACKAGE}
post_hooks: []
content_type_overrides:
  application/pdf: application/octet-stream
"""


@pytest.fixture
async def generated(http: TestClient[Any, Any], tmp_path: Path) -> AsyncIterator[ModuleType]:
    response = await http.get("/v1/openapi.json")
    assert response.status == 200
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(await response.json()))
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    generation = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(spec),
        "--config",
        str(config),
        "--meta",
        "none",
        "--output-path",
        str(tmp_path / PACKAGE),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await generation.communicate()
    log = output.decode()
    assert generation.returncode == 0, log
    assert "Warning" not in log and "Unable to" not in log, log  # every schema made a model
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


class Operations:
    """The generated modules of one tag, one per operation (`invoices.create_invoice`)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __getattr__(self, operation: str) -> Any:
        return _module(f"api.{self.tag}.{operation}")


async def test_a_generated_client_creates_reads_lists_pays_and_voids_invoices(
    generated: ModuleType, http: TestClient[Any, Any], api: Api, projector: None
) -> None:
    m = _module("models")
    invoices = Operations("invoices")
    customers = Operations("customers")
    client = generated.AuthenticatedClient(
        base_url=str(http.make_url("")).rstrip("/"), token=api.key
    )
    async with client:
        created = await invoices.create_invoice.asyncio_detailed(
            client=client,
            body=m.CreateInvoiceRequest(
                customer_name="AfriTech Solutions",
                customer_email="billing@afritech.test",
                accept_partial_payments=True,
                items=[
                    m.ItemIn(description="Server migration", quantity=2, unit_price=125000),
                    m.ItemIn(description="Support", qty=3, price=10000),  # Kredo's aliases
                ],
            ),
        )
        assert created.status_code == 201, created.content
        invoice = created.parsed.data
        assert (invoice.status, invoice.total, invoice.amount_due) == ("open", 280000, 280000)
        assert [item.amount for item in invoice.items] == [250000, 30000]
        assert invoice.document_number.startswith("INV-")

        got = await invoices.get_invoice.asyncio_detailed(str(invoice.id), client=client)
        assert got.status_code == 200
        assert got.headers["ETag"] == f'"{invoice.version}"'
        assert got.parsed.data.document_number == invoice.document_number

        paid = await invoices.record_payment.asyncio_detailed(
            str(invoice.id),
            client=client,
            body=m.RecordPaymentRequest(amount=100000, method="bank_transfer", reference="T-1"),
            if_match=got.headers["ETag"],
        )
        assert paid.status_code == 201, paid.content
        after_payment = paid.parsed.data
        assert after_payment.status == "partially_paid"
        assert (after_payment.amount_paid, after_payment.amount_due) == (100000, 180000)
        assert [p.reference for p in after_payment.payments] == ["T-1"]

        saved = await customers.create_customer.asyncio_detailed(
            client=client, body=m.CreateCustomerRequest(name="Ada Stores")
        )
        assert saved.status_code == 201, saved.content
        second = await invoices.create_invoice.asyncio_detailed(
            client=client,
            body=m.CreateInvoiceRequest(
                recipient_ref=str(saved.parsed.data.id),  # Duplo's alias of customer_id
                items=[m.ItemIn(name="Rice, 50 kg bag", quantity=1, unit_price=7500000)],
            ),
        )
        assert second.status_code == 201, second.content
        assert second.parsed.data.customer.name == "Ada Stores"
        voided = await invoices.void_invoice.asyncio_detailed(
            str(second.parsed.data.id),
            client=client,
            body=m.ReasonRequest(reason="issued twice"),
        )
        assert voided.status_code == 200, voided.content
        assert (voided.parsed.data.status, voided.parsed.data.amount_due) == ("void", 7500000)

        async def both_listed_as_they_are() -> Any:
            """The list is a projection: it shows the void and the payment a moment later."""
            listed = await invoices.list_invoices.asyncio_detailed(client=client, limit=10)
            assert listed.status_code == 200, listed.content
            statuses = [(i.id, i.status) for i in listed.parsed.data]
            settled = [(second.parsed.data.id, "void"), (invoice.id, "partially_paid")]
            return listed.parsed if statuses == settled else None

        page = await wait_until(both_listed_as_they_are)
        assert [i.amount_due for i in page.data] == [7500000, 180000]
        assert page.has_more is False

        refused = await invoices.record_payment.asyncio_detailed(
            str(invoice.id), client=client, body=m.RecordPaymentRequest(amount=999999999)
        )
        assert refused.status_code == 409
        assert refused.parsed.error.code == "payment_exceeds_balance"
