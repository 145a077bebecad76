"""Kredo's API at /compat/kredo/v1 (DESIGN.md §11; ../shared/seeds/kredo-api.txt): its
documented request, sent byte for byte, gives Kredo's documented figures and words, onto the
same invoice the native API reads."""

from __future__ import annotations

import json

import asyncpg
import pytest

from risiti.api.dialects import dialect_document
from risiti.commands.accounts import OpenedAccount

from .conftest import Api, wait_until
from .http_calls import call, event_count, seed_example, send_bytes

pytestmark = pytest.mark.asyncio

KREDO = "/compat/kredo/v1"
CREATE_BODY = seed_example("kredo-create-invoice.json")


async def test_kredos_documented_request_reads_250000_naira_unpaid_with_its_public_links(
    api: Api,
) -> None:
    created = await send_bytes(api, "POST", f"{KREDO}/invoices", CREATE_BODY)

    assert created.status == 201, created.body
    assert created.body["success"] is True
    data = created.data
    assert set(data) == {"public_id", "document_number", "view_url", "status", "total", "risiti"}
    assert data["total"] == 250000
    assert data["status"] == "unpaid"
    assert data["view_url"].endswith(f"/i/{data['public_id']}")
    assert data["document_number"]


async def test_an_invoice_made_through_kredo_reads_in_kobo_natively(api: Api) -> None:
    created = await send_bytes(api, "POST", f"{KREDO}/invoices", CREATE_BODY)

    native = await call(api, "GET", f"/v1/invoices/{created.data['risiti']['id']}")

    assert native.status == 200
    assert native.data["total"] == 25000000
    assert native.data["items"][0]["unit_price"] == 25000000
    assert native.data["status"] == "open"
    assert native.data["customer"]["email"] == "billing@afritech.test"


async def test_kredo_reads_an_invoice_by_public_id_and_by_document_number(api: Api) -> None:
    created = (await send_bytes(api, "POST", f"{KREDO}/invoices", CREATE_BODY)).data

    by_public_id = await call(api, "GET", f"{KREDO}/invoices/{created['public_id']}")
    by_number = await call(api, "GET", f"{KREDO}/invoices/{created['document_number']}")

    assert by_public_id.status == by_number.status == 200
    assert by_public_id.data == by_number.data == created


async def test_a_partly_paid_invoice_is_still_unpaid_to_kredo(api: Api) -> None:
    created = (await send_bytes(api, "POST", f"{KREDO}/invoices", CREATE_BODY)).data
    invoice_id = created["risiti"]["id"]
    paid = await call(api, "POST", f"/v1/invoices/{invoice_id}/payments", {"amount": 5000000})
    assert paid.status == 201, paid.body

    read = await call(api, "GET", f"{KREDO}/invoices/{invoice_id}")

    assert read.data["status"] == "unpaid"
    assert read.data["risiti"]["amount_paid"] == 50000
    assert read.data["risiti"]["amount_due"] == 200000


async def test_kredos_unpaid_filter_lists_partly_paid_invoices_too(
    api: Api, projector: None
) -> None:
    open_one = (await send_bytes(api, "POST", f"{KREDO}/invoices", CREATE_BODY)).data
    partly = (await send_bytes(api, "POST", f"{KREDO}/invoices", CREATE_BODY)).data
    partly_id = partly["risiti"]["id"]
    await call(api, "POST", f"/v1/invoices/{partly_id}/payments", {"amount": 100})
    draft_body = json.loads(CREATE_BODY) | {"status": "draft"}
    await call(api, "POST", f"{KREDO}/invoices", draft_body)

    async def listed() -> list[str] | None:
        answer = await call(api, "GET", f"{KREDO}/invoices?status=unpaid")
        ids = [item["risiti"]["id"] for item in answer.data]
        return ids if len(ids) == 2 else None

    ids = await wait_until(listed)
    assert set(ids) == {open_one["risiti"]["id"], partly_id}


async def test_kredo_amounts_with_more_decimals_than_naira_are_refused_naming_the_price(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    body = json.loads(CREATE_BODY)
    body["items"][0]["price"] = 2500.005
    before = await event_count(pool, account.account_id)

    refused = await call(api, "POST", f"{KREDO}/invoices", body)

    assert refused.status == 422
    assert refused.body["success"] is False
    assert refused.error["code"] == "validation_error"
    assert refused.body["risiti"]["details"][0]["field"] == "items.0.price"
    assert await event_count(pool, account.account_id) == before


async def test_a_field_kredo_does_not_document_is_refused_naming_it(api: Api) -> None:
    body = json.loads(CREATE_BODY) | {"currency": "USD"}

    refused = await call(api, "POST", f"{KREDO}/invoices", body)

    assert refused.status == 422
    assert [d["field"] for d in refused.body["risiti"]["details"]] == ["currency"]


async def test_kredo_errors_come_in_kredos_envelope(api: Api) -> None:
    missing = await call(api, "GET", f"{KREDO}/invoices/INV-NOPE")

    assert missing.status == 404
    assert set(missing.body) == {"success", "error", "risiti"}
    assert set(missing.error) == {"code", "message"}
    assert missing.error["code"] == "not_found"


async def test_kredos_openapi_document_is_served_under_its_base_path(api: Api) -> None:
    response = await api.http.get(f"{KREDO}/openapi.json")
    document = await response.json()

    assert response.status == 200
    assert document == dialect_document("kredo", document["servers"][0]["url"][: -len(KREDO)])
    assert set(document["paths"]) == {"/invoices", "/invoices/{id}", "/openapi.json"}
