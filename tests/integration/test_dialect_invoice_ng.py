"""Invoice.ng's API at /compat/invoice-ng/v1 (DESIGN.md §11; ../shared/seeds/invoice-ng-api.txt):
its documented requests, sent byte for byte, give its documented figures and words, onto the
same invoice the native API reads; each of its nine paths works as its document says.

The record-payment and send examples name the invoice by the placeholder `"<the invoice id>"`:
`_naming_the_invoice` parses those files' JSON and replaces only that value, nothing else."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from risiti.api.dialects import dialect_document
from risiti.commands.accounts import OpenedAccount

from .conftest import Api, wait_until
from .http_calls import Answer, call, event_count, seed_example, send_bytes

pytestmark = pytest.mark.asyncio

INVOICE_NG = "/compat/invoice-ng/v1"
ADD_BODY = seed_example("invoice-ng-add-invoice.json")
PLACEHOLDER = "<the invoice id>"
CLIENT = {
    "name": "Dana K. Adrian",
    "phone": "+145677312965",
    "address": "Plot 64A, Ajaguna Street, Lekki Phase 1, Lagos.",
}
CLIENT_EXTERNAL_ID = "606213207287745"
"""The add example's `client`: the id Invoice.ng gave the customer."""


def _naming_the_invoice(example: str, invoice_id: str) -> dict[str, Any]:
    """A seed example whose `id` is the document's placeholder, with only that value replaced
    by a real invoice's id: the rest of the body is the file's, as published."""
    body: dict[str, Any] = json.loads(seed_example(example))
    assert body["id"] == PLACEHOLDER
    return body | {"id": invoice_id}


async def _client(api: Api, *, external_id: str | None = None) -> str:
    """The customer the add example names, created natively (with the id of the old system,
    if given); its Risiti id."""
    fields = {"external_id": external_id} if external_id else {}
    created = await call(api, "POST", "/v1/customers", CLIENT | fields)
    assert created.status == 201, created.body
    customer_id: str = created.data["id"]
    return customer_id


async def _added(api: Api, client: str | None = None, **fields: Any) -> dict[str, Any]:
    """The add example with its client named by Risiti's id (a new one's unless `client`), and
    `fields` changed."""
    body = json.loads(ADD_BODY) | {"client": client or await _client(api)} | fields
    added = await call(api, "POST", f"{INVOICE_NG}/invoice/add", body)
    assert added.status == 200, added.body
    invoice: dict[str, Any] = added.body["invoice"][0]
    return invoice


async def _read(api: Api, invoice_id: str) -> Answer:
    return await call(api, "GET", f"{INVOICE_NG}/invoice/{invoice_id}")


async def test_invoice_ngs_documented_add_gives_160000_8000_168000_numbered_inv_01(
    api: Api,
) -> None:
    await _client(api, external_id=CLIENT_EXTERNAL_ID)

    added = await send_bytes(api, "POST", f"{INVOICE_NG}/invoice/add", ADD_BODY)

    assert added.status == 200, added.body
    assert added.body["status"] == "success"
    invoice = added.body["invoice"][0]
    assert (invoice["sub_total"], invoice["tax_amount"], invoice["total"]) == (160000, 8000, 168000)
    assert invoice["invoice_no"] == "INV-01"
    assert invoice["payment_status"] == "Not Paid"
    assert (invoice["amount_paid"], invoice["outstanding_balance"]) == ("0", "168000")
    assert invoice["customer_name"] == "Dana K. Adrian"
    assert added.body["items"] == [
        {"description": "Web Development Fee", "quantity": 1, "rate": "150000", "amount": "150000"},
        {"description": "Domain Registration", "quantity": 4, "rate": "2500", "amount": "10000"},
    ]


async def test_an_invoice_added_through_invoice_ng_reads_in_kobo_natively(api: Api) -> None:
    invoice = await _added(api)

    native = await call(api, "GET", f"/v1/invoices/{invoice['id']}")

    assert native.status == 200
    assert (native.data["subtotal"], native.data["tax_total"]) == (16000000, 800000)
    assert native.data["total"] == 16800000
    assert native.data["document_number"] == "INV-01"
    assert native.data["status"] == "open"
    assert native.data["customer"]["id"] == invoice["customer_id"]


async def test_recording_157000_of_the_documented_invoice_leaves_11000_outstanding(
    api: Api,
) -> None:
    invoice = await _added(api)
    body = _naming_the_invoice("invoice-ng-record-payment.json", invoice["id"])

    recorded = await call(api, "POST", f"{INVOICE_NG}/invoice/record-payment", body)

    assert recorded.status == 200, recorded.body
    assert recorded.body == {
        "status": "success",
        "message": "Invoice payment update was successful.",
    }
    read = await _read(api, invoice["id"])
    shown = read.body["invoice"][0]
    assert (shown["amount_paid"], shown["outstanding_balance"]) == ("157000", "11000")
    assert shown["payment_status"] == "Not Paid"
    payment = read.body["payments"][0]
    assert (payment["amount"], payment["bank"], payment["status"]) == (
        157000,
        "Bank Transfer",
        "success",
    )
    assert payment["created_at"] == "2017-06-10 00:00:00"
    native = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    assert native.data["status"] == "partially_paid"
    assert native.data["payments"][0]["method"] == "bank_transfer"


async def test_marking_paid_then_not_paid_pays_the_balance_then_reverses_every_payment(
    api: Api,
) -> None:
    invoice = await _added(api)

    paid = await call(api, "GET", f"{INVOICE_NG}/invoice/paid/{invoice['id']}")
    shown_paid = (await _read(api, invoice["id"])).body["invoice"][0]
    again = await call(api, "GET", f"{INVOICE_NG}/invoice/paid/{invoice['id']}")
    not_paid = await call(api, "GET", f"{INVOICE_NG}/invoice/not-paid/{invoice['id']}")
    shown_not_paid = (await _read(api, invoice["id"])).body

    assert paid.status == again.status == not_paid.status == 200, not_paid.body
    assert paid.body == {"status": "success", "message": "Invoice update was successful."}
    assert (shown_paid["payment_status"], shown_paid["outstanding_balance"]) == ("Paid", "0")
    assert shown_not_paid["invoice"][0]["payment_status"] == "Not Paid"
    assert shown_not_paid["invoice"][0]["outstanding_balance"] == "168000"
    assert [p["status"] for p in shown_not_paid["payments"]] == ["reversed"]
    history = await call(api, "GET", f"/v1/invoices/{invoice['id']}/history")
    types = [event["type"] for event in history.data["events"]]
    assert types == ["Created", "Finalized", "PaymentRecorded", "PaymentsReversed"]


async def test_a_partly_paid_invoice_marked_not_paid_has_its_payment_reversed(api: Api) -> None:
    invoice = await _added(api)
    body = _naming_the_invoice("invoice-ng-record-payment.json", invoice["id"])
    recorded = await call(api, "POST", f"{INVOICE_NG}/invoice/record-payment", body)
    assert recorded.status == 200, recorded.body

    answer = await call(api, "GET", f"{INVOICE_NG}/invoice/not-paid/{invoice['id']}")

    assert answer.status == 200, answer.body
    shown = (await _read(api, invoice["id"])).body["invoice"][0]
    assert (shown["amount_paid"], shown["outstanding_balance"]) == ("0", "168000")


async def test_a_head_request_never_marks_an_invoice_paid(api: Api) -> None:
    invoice = await _added(api)

    response = await api.http.head(
        f"{INVOICE_NG}/invoice/paid/{invoice['id']}",
        headers={"Authorization": f"Bearer {api.key}"},
    )

    assert response.status == 405
    assert (await _read(api, invoice["id"])).body["invoice"][0]["payment_status"] == "Not Paid"


async def test_sending_the_documented_example_sends_by_email_and_text(api: Api) -> None:
    invoice = await _added(api)
    body = _naming_the_invoice("invoice-ng-send-invoice.json", invoice["id"])

    sent = await call(api, "POST", f"{INVOICE_NG}/invoice/send", body)

    assert sent.status == 200, sent.body
    assert sent.body == {"status": "success", "message": "Invoice was successfully sent."}
    read = await _read(api, invoice["id"])
    assert [entry["email"] for entry in read.body["send_log"]] == ["info@google.xyz"]
    native = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    deliveries = native.data["send_log"][0]["deliveries"]
    assert {(d["channel"], d["to"]) for d in deliveries} == {
        ("email", "info@google.xyz"),
        ("sms", "+145677312965"),
    }


async def test_put_on_an_issued_unpaid_invoice_amends_it_and_history_shows_both_figures(
    api: Api,
) -> None:
    invoice = await _added(api)
    body = json.loads(ADD_BODY) | {"client": invoice["customer_id"]}
    body["items"][1]["quantity"] = 8

    edited = await call(api, "PUT", f"{INVOICE_NG}/invoice/{invoice['id']}", body)

    assert edited.status == 200, edited.body
    shown = edited.body["invoice"][0]
    assert (shown["sub_total"], shown["tax_amount"], shown["total"]) == (170000, 8500, 178500)
    assert shown["invoice_no"] == "INV-01"
    history = await call(api, "GET", f"/v1/invoices/{invoice['id']}/history")
    amended = history.data["events"][-1]
    assert amended["type"] == "Amended"
    assert (amended["changes"]["total_before"], amended["changes"]["total_after"]) == (
        16800000,
        17850000,
    )
    assert [i["quantity"] for i in amended["changes"]["previous"]["items"]] == ["1", "4"]
    assert [i["quantity"] for i in amended["changes"]["changes"]["items"]] == ["1", "8"]


async def test_put_restating_the_invoice_as_it_is_changes_nothing_even_once_paid(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await _added(api)
    await call(api, "GET", f"{INVOICE_NG}/invoice/paid/{invoice['id']}")
    body = json.loads(ADD_BODY) | {"client": invoice["customer_id"], "payment_status": "Paid"}
    before = await event_count(pool, account.account_id)

    edited = await call(api, "PUT", f"{INVOICE_NG}/invoice/{invoice['id']}", body)

    assert edited.status == 200, edited.body
    assert edited.body["invoice"][0]["payment_status"] == "Paid"
    assert await event_count(pool, account.account_id) == before


async def test_put_changing_the_figures_once_money_was_received_is_a_409_saying_what_to_do(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await _added(api)
    await call(api, "GET", f"{INVOICE_NG}/invoice/paid/{invoice['id']}")
    body = json.loads(ADD_BODY) | {"client": invoice["customer_id"], "payment_status": "Paid"}
    body["items"][0]["rate"] = "140000"
    before = await event_count(pool, account.account_id)

    refused = await call(api, "PUT", f"{INVOICE_NG}/invoice/{invoice['id']}", body)

    assert refused.status == 409, refused.body
    assert refused.body["status"] == "error"
    assert refused.body["risiti"]["code"] == "invalid_state"
    assert "Mark it unpaid first" in refused.body["message"]
    assert await event_count(pool, account.account_id) == before


async def test_put_not_paid_on_a_paid_invoice_reverses_its_payment_then_amends_it(
    api: Api,
) -> None:
    invoice = await _added(api)
    await call(api, "GET", f"{INVOICE_NG}/invoice/paid/{invoice['id']}")
    body = json.loads(ADD_BODY) | {"client": invoice["customer_id"]}
    body["items"][0]["rate"] = "140000"

    edited = await call(api, "PUT", f"{INVOICE_NG}/invoice/{invoice['id']}", body)

    assert edited.status == 200, edited.body
    shown = edited.body["invoice"][0]
    assert (shown["payment_status"], shown["total"], shown["outstanding_balance"]) == (
        "Not Paid",
        157500,
        "157500",
    )


async def test_put_paid_amends_then_marks_the_invoice_paid(api: Api) -> None:
    invoice = await _added(api)
    body = json.loads(ADD_BODY) | {"client": invoice["customer_id"], "payment_status": "Paid"}
    body["note"] = "Paid in full, thank you."

    edited = await call(api, "PUT", f"{INVOICE_NG}/invoice/{invoice['id']}", body)

    assert edited.status == 200, edited.body
    shown = edited.body["invoice"][0]
    assert (shown["payment_status"], shown["note"]) == ("Paid", "Paid in full, thank you.")


async def test_put_with_another_invoice_no_is_refused_naming_it(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await _added(api)
    body = json.loads(ADD_BODY) | {"client": invoice["customer_id"], "invoice_no": "INV-02"}
    before = await event_count(pool, account.account_id)

    refused = await call(api, "PUT", f"{INVOICE_NG}/invoice/{invoice['id']}", body)

    assert refused.status == 422, refused.body
    assert [d["field"] for d in refused.body["risiti"]["details"]] == ["invoice_no"]
    assert "INV-01" in refused.body["message"]
    assert await event_count(pool, account.account_id) == before


async def test_deleting_an_issued_unpaid_invoice_voids_it_and_its_number_stays_taken(
    api: Api,
) -> None:
    invoice = await _added(api)

    deleted = await call(api, "DELETE", f"{INVOICE_NG}/invoice/{invoice['id']}")

    assert deleted.status == 200, deleted.body
    assert deleted.body == {"status": "success", "message": "Invoice was successfully deleted."}
    native = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    assert (native.data["status"], native.data["document_number"]) == ("void", "INV-01")
    assert (await _read(api, invoice["id"])).status == 404
    again = json.loads(ADD_BODY) | {"client": invoice["customer_id"]}
    taken = await call(api, "POST", f"{INVOICE_NG}/invoice/add", again)
    assert taken.status == 422, taken.body
    assert taken.body["risiti"]["details"][0]["field"] == "invoice_no"


async def test_deleting_an_invoice_with_money_received_is_a_409_saying_mark_it_not_paid_first(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    invoice = await _added(api)
    await call(api, "GET", f"{INVOICE_NG}/invoice/paid/{invoice['id']}")
    before = await event_count(pool, account.account_id)

    refused = await call(api, "DELETE", f"{INVOICE_NG}/invoice/{invoice['id']}")

    assert refused.status == 409, refused.body
    assert "Mark it not paid first" in refused.body["message"]
    assert await event_count(pool, account.account_id) == before
    await call(api, "GET", f"{INVOICE_NG}/invoice/not-paid/{invoice['id']}")
    deleted = await call(api, "DELETE", f"{INVOICE_NG}/invoice/{invoice['id']}")
    assert deleted.status == 200, deleted.body


async def test_deleting_a_draft_deletes_it(api: Api) -> None:
    customer_id = await _client(api)
    draft = await call(
        api,
        "POST",
        "/v1/invoices",
        {
            "customer_id": customer_id,
            "status": "draft",
            "items": [{"description": "Logo", "unit_price": 500000}],
        },
    )

    deleted = await call(api, "DELETE", f"{INVOICE_NG}/invoice/{draft.data['id']}")

    assert deleted.status == 200, deleted.body
    assert (await call(api, "GET", f"/v1/invoices/{draft.data['id']}")).status == 404


async def test_all_lists_every_invoice_but_the_deleted_ones(api: Api, projector: None) -> None:
    client = await _client(api)
    # The deleted one first: the list the test waits for is then only ever seen once the
    # deletion is projected (made after it, it could be seen before the deleted one appeared).
    gone = await _added(api, client, invoice_no="INV-03")
    await call(api, "DELETE", f"{INVOICE_NG}/invoice/{gone['id']}")
    kept = await _added(api, client)
    paid = await _added(api, client, invoice_no="INV-02")
    await call(api, "GET", f"{INVOICE_NG}/invoice/paid/{paid['id']}")

    async def listed() -> dict[str, str] | None:
        answer = await call(api, "GET", f"{INVOICE_NG}/invoice/all")
        shown = {item["invoice_no"]: item["payment_status"] for item in answer.body["data"]}
        return shown if shown == {"INV-01": "Not Paid", "INV-02": "Paid"} else None

    assert await wait_until(listed)
    answer = await call(api, "GET", f"{INVOICE_NG}/invoice/all")
    assert answer.body["status"] == "success"
    assert [item["id"] for item in answer.body["data"]] == [paid["id"], kept["id"]]
    assert answer.body["risiti"] == {"has_more": False, "next_cursor": None}


async def test_every_documented_add_field_has_its_effect(api: Api) -> None:
    customer_id = await _client(api)
    body = {
        "client": customer_id,
        "invoice_no": "GS-2017-9",
        "payment_status": "Not Paid",
        "description": "Hosting, a year",
        "currency": "USD",
        "tax_rate": 7.5,
        "issue_date": "2026-01-05",
        "due_date": "2026-02-04",
        "note": "Wire to the usual account.",
        "items": [{"description": "Hosting", "quantity": 12, "rate": "10.25"}],
    }

    added = await call(api, "POST", f"{INVOICE_NG}/invoice/add", body)

    assert added.status == 200, added.body
    shown = added.body["invoice"][0]
    native = (await call(api, "GET", f"/v1/invoices/{shown['id']}")).data
    assert native["customer"]["id"] == customer_id == shown["customer_id"]
    assert native["document_number"] == "GS-2017-9" == shown["invoice_no"]
    assert native["status"] == "open" and shown["payment_status"] == "Not Paid"
    assert native["description"] == "Hosting, a year" == shown["description"]
    assert native["currency"] == "USD" == shown["currency"]
    assert native["taxes"][0]["percentage"] == "7.5" and shown["tax_rate"] == 7.5
    assert (native["subtotal"], native["tax_total"], native["total"]) == (12300, 923, 13223)
    assert (shown["sub_total"], shown["tax_amount"], shown["total"]) == (123, 9.23, 132.23)
    assert (native["issue_date"], native["due_date"]) == ("2026-01-05", "2026-02-04")
    assert (shown["issue_date"], shown["due_date"]) == ("2026-01-05", "2026-02-04")
    assert native["note"] == "Wire to the usual account." == shown["note"]
    assert native["items"][0]["description"] == "Hosting"
    assert (native["items"][0]["quantity"], native["items"][0]["unit_price"]) == (12, 1025)
    assert added.body["items"][0]["rate"] == "10.25"


async def test_payment_status_paid_on_add_issues_the_invoice_paid(api: Api) -> None:
    invoice = await _added(api, payment_status="Paid")

    assert (invoice["payment_status"], invoice["outstanding_balance"]) == ("Paid", "0")
    native = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    assert native.data["status"] == "paid"


async def test_client_names_a_customer_by_its_external_id_and_an_unknown_one_is_refused(
    api: Api, pool: asyncpg.Pool, account: OpenedAccount
) -> None:
    customer_id = await _client(api, external_id=CLIENT_EXTERNAL_ID)
    by_external_id = await call(api, "POST", f"{INVOICE_NG}/invoice/add", json.loads(ADD_BODY))
    before = await event_count(pool, account.account_id)
    body = json.loads(ADD_BODY) | {"client": "999999999999999", "invoice_no": "INV-02"}

    refused = await call(api, "POST", f"{INVOICE_NG}/invoice/add", body)

    assert by_external_id.status == 200, by_external_id.body
    assert by_external_id.body["invoice"][0]["customer_id"] == customer_id
    assert refused.status == 422, refused.body
    assert [d["field"] for d in refused.body["risiti"]["details"]] == ["client"]
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("payment_status", "Part Paid", "payment_status"),
        ("currency", "naira", "currency"),
        ("tax_rate", 101, "tax_rate"),
        ("issue_date", "06/06/2017", "issue_date"),
        ("due_date", "2017-06-01", "due_date"),
        ("invoice_no", "", "invoice_no"),
        ("items", [], "items"),
        ("items", [{"description": "Fee", "quantity": 1, "rate": "0.005"}], "items.0.rate"),
        ("items", [{"description": "Fee", "quantity": 0, "rate": "1"}], "items.0.quantity"),
        ("items", [{"description": "Fee", "qty": 1, "rate": "1"}], "items.0.qty"),
        ("discount", 10, "discount"),
    ],
    ids=[
        "status-word",
        "currency",
        "tax-rate",
        "date-shape",
        "due-before-issue",
        "empty-number",
        "no-items",
        "rate-decimals",
        "quantity",
        "undocumented-item-field",
        "undocumented-field",
    ],
)
async def test_an_add_field_that_cannot_be_honoured_is_refused_naming_it(
    api: Api,
    pool: asyncpg.Pool,
    account: OpenedAccount,
    field: str,
    value: Any,
    named: str,
) -> None:
    body = json.loads(ADD_BODY) | {"client": await _client(api), field: value}
    before = await event_count(pool, account.account_id)

    refused = await call(api, "POST", f"{INVOICE_NG}/invoice/add", body)

    assert refused.status == 422, refused.body
    assert refused.body["status"] == "error"
    assert refused.body["risiti"]["code"] == "validation_error"
    assert named in [detail["field"] for detail in refused.body["risiti"]["details"]]
    assert await event_count(pool, account.account_id) == before


async def test_a_payment_with_more_decimals_than_naira_or_past_the_balance_is_refused(
    api: Api,
) -> None:
    invoice = await _added(api)
    body = _naming_the_invoice("invoice-ng-record-payment.json", invoice["id"])

    fraction = await call(
        api, "POST", f"{INVOICE_NG}/invoice/record-payment", body | {"amount_paid": 0.001}
    )
    too_much = await call(
        api, "POST", f"{INVOICE_NG}/invoice/record-payment", body | {"amount_paid": 168001}
    )

    assert fraction.status == 422, fraction.body
    assert fraction.body["risiti"]["details"][0]["field"] == "amount_paid"
    assert too_much.status == 409, too_much.body
    assert too_much.body["risiti"]["details"][0]["field"] == "amount_paid"


async def test_invoice_ng_errors_come_in_its_status_and_message_envelope(api: Api) -> None:
    missing = await call(api, "GET", f"{INVOICE_NG}/invoice/INV-NOPE")

    assert missing.status == 404
    assert set(missing.body) == {"status", "message", "risiti"}
    assert missing.body["status"] == "error"
    assert missing.body["risiti"]["code"] == "not_found"


async def test_invoice_ngs_openapi_document_lists_its_nine_paths(api: Api) -> None:
    response = await api.http.get(f"{INVOICE_NG}/openapi.json")
    document = await response.json()

    assert response.status == 200
    base_url = document["servers"][0]["url"][: -len(INVOICE_NG)]
    assert document == dialect_document("invoice-ng", base_url)
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert operations == {
        ("GET", "/invoice/all"),
        ("GET", "/invoice/{id}"),
        ("POST", "/invoice/add"),
        ("PUT", "/invoice/{id}"),
        ("POST", "/invoice/send"),
        ("POST", "/invoice/record-payment"),
        ("GET", "/invoice/paid/{id}"),
        ("GET", "/invoice/not-paid/{id}"),
        ("DELETE", "/invoice/{id}"),
        ("GET", "/openapi.json"),
    }


async def test_every_documented_put_field_has_its_effect_or_a_named_refusal(api: Api) -> None:
    invoice = await _added(api)
    other = await call(api, "POST", "/v1/customers", {"name": "GSVBS Ltd"})
    body = {
        "client": other.data["id"],
        "invoice_no": "INV-01",
        "payment_status": "Not Paid",
        "description": "GSVBS Website, phase 2",
        "tax_rate": 10,
        "issue_date": "2017-06-07",
        "due_date": "2017-07-07",
        "note": "Net 30.",
        "items": [{"description": "Phase 2", "quantity": 2, "rate": "50000"}],
    }

    edited = await call(api, "PUT", f"{INVOICE_NG}/invoice/{invoice['id']}", body)
    currency = await call(
        api, "PUT", f"{INVOICE_NG}/invoice/{invoice['id']}", body | {"currency": "USD"}
    )

    assert edited.status == 200, edited.body
    shown = edited.body["invoice"][0]
    assert (shown["customer_id"], shown["customer_name"]) == (other.data["id"], "GSVBS Ltd")
    assert shown["description"] == "GSVBS Website, phase 2"
    assert (shown["tax_rate"], shown["sub_total"], shown["total"]) == (10, 100000, 110000)
    assert (shown["issue_date"], shown["due_date"], shown["note"]) == (
        "2017-06-07",
        "2017-07-07",
        "Net 30.",
    )
    assert edited.body["items"] == [
        {"description": "Phase 2", "quantity": 2, "rate": "50000", "amount": "100000"}
    ]
    assert currency.status == 409, currency.body
    assert "currency" in currency.body["message"]
