"""Paycashless' API at /compat/paycashless/v1 (DESIGN.md §11;
../shared/seeds/paycashless-create-invoice.txt): its documented request, sent byte for byte and
signed as its document says, is refused for its obfuscated email, naming `customer.email`; the
same request with a real email gives Paycashless' camelCase document, onto the same invoice the
native API reads."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from risiti.api.dialects import dialect_document
from risiti.commands.accounts import OpenedAccount

from .conftest import Api, Receiver, wait_until
from .http_calls import Answer, call, event_count, seed_example

pytestmark = pytest.mark.asyncio

PAYCASHLESS = "/compat/paycashless/v1"
CREATE_BODY = seed_example("paycashless-create-invoice.json")
DOCUMENTED = {
    "id",
    "status",
    "customerId",
    "description",
    "currency",
    "reference",
    "sendEmail",
    "dueDate",
    "liveMode",
    "number",
    "amountDue",
    "amountPaid",
    "totalInclusiveTaxAmount",
    "totalExclusiveTaxAmount",
    "taxRateIds",
    "items",
    "maxInstallments",
    "hostedInvoiceUrl",
}


_last_timestamp = [0]


def fresh_timestamp() -> str:
    """Now in unix seconds, or a second past the last one given, if that is later: no two
    requests of these tests sign the same timestamp (a signature is accepted once)."""
    _last_timestamp[0] = max(int(time.time()), _last_timestamp[0] + 1)
    return str(_last_timestamp[0])


def signature(key: str, timestamp: str, body: bytes) -> str:
    """Paycashless' `Request-Signature`: the hex HMAC-SHA512 of the payload with its timestamp,
    keyed with the API secret (docs/migrating.md)."""
    return hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha512).hexdigest()


async def send_signed(
    api: Api,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: str | None = None,
    signed: str | None = None,
) -> Answer:
    """`method path` with the api's key, `body` byte for byte, signed as Paycashless signs
    (or with the `signed` signature of `timestamp` given); each with a timestamp of its own, as
    a signature is accepted once and two reads of one invoice in one second would sign alike."""
    timestamp = timestamp or fresh_timestamp()
    sent = {
        "Authorization": f"Bearer {api.key}",
        "Content-Type": "application/json",
        "Request-Timestamp": timestamp,
        "Request-Signature": signed or signature(api.key, timestamp, body),
    }
    response = await api.http.request(method, path, data=body or None, headers=sent)
    return Answer(response.status, await response.json(), response.headers)


def with_real_email(**changes: Any) -> dict[str, Any]:
    """The documented request, its obfuscated email replaced by a real one."""
    body: dict[str, Any] = json.loads(CREATE_BODY)
    body["customer"]["email"] = "ada@example.com"
    return body | changes


def _without_references(**changes: Any) -> dict[str, Any]:
    """The documented request with a real email and neither tax rates nor callbacks: what
    works on its own, whatever else the account has."""
    body = with_real_email(**changes)
    for name in ("taxRateIds", "callbackUrl", "returnUrl"):
        body.pop(name)
    return body


async def create(api: Api, body: dict[str, Any]) -> Answer:
    return await send_signed(api, "POST", f"{PAYCASHLESS}/invoices", json.dumps(body).encode())


async def tax_rate(api: Api, **fields: Any) -> dict[str, Any]:
    created = await call(
        api, "POST", "/v1/tax-rates", {"name": "VAT", "percentage": "7.5", **fields}
    )
    assert created.status == 201, created.body
    rate: dict[str, Any] = created.data
    return rate


def refused_fields(answer: Answer) -> list[str]:
    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    return [detail["field"] for detail in answer.error["details"]]


# The documented request -----------------------------------------------------------------------


async def test_paycashless_documented_request_is_refused_naming_customer_email(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    await tax_rate(api, external_id="txr_1")
    before = await event_count(pool, account.account_id)

    refused = await send_signed(api, "POST", f"{PAYCASHLESS}/invoices", CREATE_BODY)

    assert refused_fields(refused) == ["customer.email"]
    assert set(refused.body) == {"error"}
    assert refused.error["requestId"] == refused.headers["Request-Id"]
    assert await event_count(pool, account.account_id) == before


async def test_the_documented_request_with_a_real_email_reads_in_paycashless_camel_case(
    api: Api,
) -> None:
    vat = await tax_rate(api, external_id="txr_1")

    created = await create(api, with_real_email())

    assert created.status == 201, created.body
    invoice = created.body
    assert set(invoice) == DOCUMENTED | {"risiti"}
    assert invoice["taxRateIds"] == [vat["id"]]
    assert invoice["amountDue"] == 123 * 100000 + 922500  # 7.5 % of ₦123,000 added
    assert invoice["amountPaid"] == 0
    assert invoice["totalExclusiveTaxAmount"] == 922500
    assert invoice["totalInclusiveTaxAmount"] == 0
    assert invoice["status"] == "open"
    assert invoice["number"]
    assert invoice["liveMode"] is False
    assert invoice["items"] == [{"id": "1", "name": "<string>", "quantity": 123, "price": 100000}]
    assert created.headers["Location"] == f"{PAYCASHLESS}/invoices/{invoice['id']}"


async def test_callback_url_is_called_once_the_paycashless_invoice_is_paid(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    await tax_rate(api, external_id="txr_1")
    secret = (await call(api, "GET", "/v1/account")).data["callback_signing_secret"]
    invoice = (await create(api, with_real_email(callbackUrl=receiver.url))).body
    paid = await call(api, "POST", f"/v1/invoices/{invoice['id']}/mark-paid", {})
    assert paid.status == 200, paid.body

    async def called() -> bool:
        return len(receiver.received) >= 1

    await wait_until(called)
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)

    assert len(receiver.received) == 1
    assert payload["event"] == "invoice.paid"
    assert payload["data"]["id"] == invoice["id"]


# Every documented field -----------------------------------------------------------------------


async def test_every_documented_field_has_its_effect_on_the_invoice(
    api: Api, receiver: Receiver
) -> None:
    vat = await tax_rate(api, external_id="txr_vat", inclusive=True)
    body = {
        "reference": "ORD-456",
        "acceptPartialPayments": True,
        "description": "Order 456",
        "currency": "USD",
        "sendEmail": True,
        "autoFinalize": True,
        "callbackUrl": receiver.url,
        "returnUrl": "https://shop.example.com/thanks",
        "customer": {"email": "Ada@Example.com", "name": "Ada Obi", "address": "12 Marina"},
        "items": [
            {
                "name": "Consulting",
                "quantity": 2.5,
                "description": "Two and a half hours",
                "price": 4000,
            },
            {"name": "Travel", "quantity": 1, "price": 1500},
        ],
        "taxRateIds": ["txr_vat"],
        "maxInstallments": 3,
        "daysUntilDue": 14,
        "metadata": {"customer_id": "123", "order_id": "456"},
    }

    created = await create(api, body)
    native = (await call(api, "GET", f"/v1/invoices/{created.body['id']}")).data

    assert created.status == 201, created.body
    invoice = created.body
    assert (invoice["reference"], native["reference"]) == ("ORD-456", "ORD-456")
    assert (invoice["description"], native["description"]) == ("Order 456", "Order 456")
    assert (invoice["currency"], native["currency"]) == ("USD", "USD")
    assert (invoice["status"], native["status"]) == ("open", "open")  # autoFinalize
    assert invoice["number"] == native["document_number"]
    assert invoice["sendEmail"] is True
    assert [entry["email"] for entry in native["send_log"]] == ["ada@example.com"]
    assert native["accept_partial_payments"] is True
    assert (invoice["maxInstallments"], native["max_installments"]) == (3, 3)
    assert native["metadata"] == {"customer_id": "123", "order_id": "456"}
    assert native["customer"] | {"id": None} == {
        "id": None,
        "name": "Ada Obi",
        "email": "ada@example.com",
        "phone": None,
        "address": "12 Marina",
    }
    assert invoice["customerId"] == native["customer"]["id"] is not None
    assert [
        (i["description"], i["details"], i["quantity"], i["unit_price"]) for i in native["items"]
    ] == [
        ("Consulting", "Two and a half hours", 2.5, 4000),
        ("Travel", None, 1, 1500),
    ]
    assert [i["description"] for i in invoice["risiti"]["items"]] == ["Two and a half hours", None]
    due = date.fromisoformat(native["issue_date"]) + timedelta(days=14)
    assert invoice["dueDate"] == f"{due.isoformat()}T00:00:00Z"
    assert invoice["taxRateIds"] == [vat["id"]]
    assert invoice["totalInclusiveTaxAmount"] == native["tax_inclusive_total"] > 0
    assert invoice["amountDue"] == native["amount_due"] == 11500  # the tax is in the prices
    assert native["callback_url"] == invoice["risiti"]["callbackUrl"] == receiver.url
    assert native["return_url"] == invoice["risiti"]["returnUrl"]
    assert invoice["risiti"]["returnUrl"] == "https://shop.example.com/thanks"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"daysUntilDue": 0}, "daysUntilDue"),
        ({"daysUntilDue": 1801}, "daysUntilDue"),
        ({"currency": "EUR"}, "currency"),
        ({"items": [{"name": "Box", "quantity": 1, "price": 100}] * 21}, "items"),
        ({"items": [{"name": "Box", "quantity": 1, "price": 1.5}]}, "items.0.price"),
        ({"items": [{"quantity": 1, "price": 100}]}, "items.0.name"),
        ({"reference": ""}, "reference"),
        ({"taxRateIds": ["txr_unknown"]}, "taxRateIds.0"),
        ({"maxInstallments": 0}, "maxInstallments"),
        ({"sendEmail": True, "autoFinalize": False}, "sendEmail"),
        ({"days_until_due": 30}, "days_until_due"),
        ({"discount": {"type": "amount", "value": 100}}, "discount"),
    ],
)
async def test_a_field_paycashless_would_refuse_is_refused_by_its_camel_case_name(
    api: Api,
    account: OpenedAccount,
    pool: asyncpg.Pool,
    changes: dict[str, Any],
    field: str,
) -> None:
    body = _without_references() | changes
    before = await event_count(pool, account.account_id)

    refused = await create(api, body)

    assert refused_fields(refused)[0] == field
    assert await event_count(pool, account.account_id) == before


async def test_a_callback_url_on_a_private_address_is_refused_as_callback_url(api: Api) -> None:
    body = with_real_email(callbackUrl="https://10.0.0.1/paid")
    del body["taxRateIds"]

    refused = await create(api, body)

    assert refused_fields(refused) == ["callbackUrl"]


# Without autoFinalize, and afterwards ------------------------------------------------------


async def test_without_auto_finalize_the_invoice_is_a_draft_without_a_number(api: Api) -> None:
    created = await create(api, _without_references(autoFinalize=False))

    assert created.status == 201, created.body
    assert created.body["status"] == "draft"
    assert created.body["number"] is None
    assert created.body["amountDue"] == 123 * 100000


async def test_the_item_description_is_kept_beside_its_name(api: Api) -> None:
    body = _without_references()
    body["items"] = [{"name": "Audit", "quantity": 1, "description": "FY2025 books", "price": 5}]

    created = (await create(api, body)).body
    native = await call(api, "GET", f"/v1/invoices/{created['id']}")
    page = await api.http.get(urlsplit(created["hostedInvoiceUrl"]).path)

    assert created["items"][0]["name"] == "Audit"
    assert created["risiti"]["items"][0]["description"] == "FY2025 books"
    assert native.data["items"][0]["description"] == "Audit"
    assert native.data["items"][0]["details"] == "FY2025 books"
    assert "FY2025 books" in await page.text()


async def test_paycashless_reads_an_invoice_by_id_with_paycashless_status_words(
    api: Api,
) -> None:
    created = (await create(api, _without_references(acceptPartialPayments=True))).body
    path = f"{PAYCASHLESS}/invoices/{created['id']}"

    first = await send_signed(api, "GET", path)
    await call(api, "POST", f"/v1/invoices/{created['id']}/payments", {"amount": 100000})
    partly = await send_signed(api, "GET", path)
    await call(api, "POST", f"/v1/invoices/{created['id']}/mark-unpaid", {})
    await call(api, "POST", f"/v1/invoices/{created['id']}/void", {})
    voided = await send_signed(api, "GET", path)
    by_number = await send_signed(api, "GET", f"{PAYCASHLESS}/invoices/{created['number']}")

    assert first.status == 200, first.body
    assert first.body == created
    assert (partly.body["status"], partly.body["amountPaid"]) == ("partially_paid", 100000)
    assert partly.body["amountDue"] == 123 * 100000 - 100000
    assert voided.body["status"] == "cancelled"
    assert by_number.body["id"] == created["id"]


async def test_an_invoice_made_through_paycashless_is_the_same_invoice_natively(api: Api) -> None:
    created = (await create(api, _without_references())).body

    native = await call(api, "GET", f"/v1/invoices/{created['id']}")

    assert native.status == 200
    assert native.data["amount_due"] == created["amountDue"] == 12300000
    assert native.data["view_url"] == created["hostedInvoiceUrl"]
    assert native.data["customer"]["email"] == "ada@example.com"


# Signed requests ------------------------------------------------------------------------------


async def test_an_unsigned_paycashless_request_is_refused_in_paycashless_envelope(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    before = await event_count(pool, account.account_id)

    unsigned = await call(api, "POST", f"{PAYCASHLESS}/invoices", _without_references())

    assert unsigned.status == 401
    assert unsigned.error["code"] == "signature_required"
    assert await event_count(pool, account.account_id) == before


async def test_a_signature_of_another_body_or_in_the_native_form_is_refused(api: Api) -> None:
    body = json.dumps(_without_references()).encode()
    timestamp = fresh_timestamp()
    native_form = timestamp.encode() + f".POST.{PAYCASHLESS}/invoices.".encode() + body
    forms = {
        "another body": signature(api.key, timestamp, body + b" "),
        "native form": hmac.new(api.key.encode(), native_form, hashlib.sha512).hexdigest(),
    }

    for form, signed in forms.items():
        answer = await send_signed(
            api, "POST", f"{PAYCASHLESS}/invoices", body, timestamp=timestamp, signed=signed
        )
        assert answer.status == 401, form
        assert answer.error["code"] == "invalid_signature", form
        assert "timestamp.body" in answer.error["message"], form


async def test_a_paycashless_signature_is_accepted_once(api: Api) -> None:
    body = json.dumps(_without_references()).encode()
    timestamp = fresh_timestamp()
    signed = signature(api.key, timestamp, body)
    path = f"{PAYCASHLESS}/invoices"

    first = await send_signed(api, "POST", path, body, timestamp=timestamp, signed=signed)
    again = await send_signed(api, "POST", path, body, timestamp=timestamp, signed=signed)

    assert first.status == 201
    assert again.status == 401
    assert again.error["code"] == "signature_replayed"


async def test_paycashless_openapi_document_is_served_under_its_base_path(api: Api) -> None:
    response = await api.http.get(f"{PAYCASHLESS}/openapi.json")
    document = await response.json()

    assert response.status == 200
    assert document == dialect_document(
        "paycashless", document["servers"][0]["url"][: -len(PAYCASHLESS)]
    )
    assert set(document["paths"]) == {"/invoices", "/invoices/{id}", "/openapi.json"}
