"""The HTTP details a client relies on (issue 16): `Location` on every 201, `Allow` on a 405,
`WWW-Authenticate` on a 401, gzip for large JSON when asked, `ending_before` paging backward,
and a `Server` header that names no versions."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from risiti.commands.accounts import OpenedAccount
from risiti.config import Settings

from .conftest import KREDO_INVOICE, Api, serving, wait_until
from .http_calls import Answer, call

pytestmark = pytest.mark.asyncio

CREATES = {
    "/v1/invoices": KREDO_INVOICE,
    "/v1/customers": {"name": "AfriTech Solutions", "email": "billing@afritech.test"},
    "/v1/products": {"sku": "RICE-50", "name": "Rice, 50 kg", "unit_price": 7_500_000},
    "/v1/tax-rates": {"name": "VAT", "percentage": "7.5"},
    "/v1/webhook-endpoints": {"url": "http://127.0.0.1:9/hooks", "events": ["*"]},
}


@pytest.mark.parametrize("collection", list(CREATES))
async def test_a_create_says_where_the_created_resource_is_read(api: Api, collection: str) -> None:
    created = await call(api, "POST", collection, CREATES[collection])
    assert created.status == 201, created.body

    location = created.headers["Location"]
    read = await call(api, "GET", location)

    assert location == f"{collection}/{created.data['id']}"
    assert read.status == 200, read.body
    assert read.data["id"] == created.data["id"]


async def test_a_payment_and_a_stock_adjustment_point_at_what_they_changed(api: Api) -> None:
    invoice = await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    product = await call(api, "POST", "/v1/products", CREATES["/v1/products"] | {"stock": 5})

    payment = await call(
        api, "POST", f"/v1/invoices/{invoice.data['id']}/payments", {"amount": 250000}
    )
    adjustment = await call(
        api, "POST", f"/v1/products/{product.data['id']}/adjustments", {"delta": 2}
    )

    assert payment.status == 201, payment.body
    assert payment.headers["Location"] == f"/v1/invoices/{invoice.data['id']}"
    assert adjustment.status == 201, adjustment.body
    assert adjustment.headers["Location"] == f"/v1/products/{product.data['id']}"


async def test_an_idempotent_replay_of_a_create_keeps_its_location(api: Api) -> None:
    first = await call(api, "POST", "/v1/customers", CREATES["/v1/customers"], Idempotency_Key="k1")
    again = await call(api, "POST", "/v1/customers", CREATES["/v1/customers"], Idempotency_Key="k1")

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]


async def test_a_method_the_route_does_not_take_is_405_with_allow(api: Api) -> None:
    answer = await call(api, "PUT", "/v1/invoices", {})

    assert answer.status == 405, answer.body
    assert answer.error["code"] == "method_not_allowed"
    allowed = {method.strip() for method in answer.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "PUT" not in allowed


async def test_a_request_without_a_key_is_challenged_for_a_bearer_key(
    http: TestClient[Any, Any],
) -> None:
    response = await http.get("/v1/invoices")

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="risiti"'
    assert (await response.json())["error"]["code"] == "authentication_required"


async def test_a_wrong_key_is_challenged_as_an_invalid_token(http: TestClient[Any, Any]) -> None:
    response = await http.get(
        "/v1/invoices", headers={"Authorization": "Bearer sk_test_not_a_key_we_issued"}
    )

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="risiti", error="invalid_token"'
    assert (await response.json())["error"]["code"] == "invalid_api_key"


# --- gzip ------------------------------------------------------------------------------------


@pytest.fixture
async def compressing(settings: Settings, account: OpenedAccount) -> AsyncIterator[Api]:
    """The API with RISITI_COMPRESS_RESPONSES on, as the account's test key uses it."""
    async with serving(settings.model_copy(update={"compress_responses": True})) as client:
        yield Api(client, account.test_key)


async def _raw_get(api: Api, path: str, accept_encoding: str) -> tuple[int, Any, bytes]:
    """The body exactly as sent: the client neither asks for gzip nor inflates it by itself."""
    response = await api.http.get(
        path,
        headers={"Authorization": f"Bearer {api.key}", "Accept-Encoding": accept_encoding},
        auto_decompress=False,
    )
    return response.status, response.headers, await response.read()


async def test_a_page_of_a_hundred_invoices_comes_gzipped_when_asked_and_plain_otherwise(
    compressing: Api, projector: None
) -> None:
    api = compressing
    for batch in range(10):
        created = await asyncio.gather(
            *(call(api, "POST", "/v1/invoices", KREDO_INVOICE) for _ in range(10))
        )
        assert [answer.status for answer in created] == [201] * 10, batch

    async def all_listed() -> bool:
        listed = await call(api, "GET", "/v1/invoices?limit=100")
        return len(listed.data) == 100

    await wait_until(all_listed, timeout=30)

    status, headers, body = await _raw_get(api, "/v1/invoices?limit=100", "gzip, deflate")
    _, plain_headers, plain = await _raw_get(api, "/v1/invoices?limit=100", "identity")

    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert len(json.loads(gzip.decompress(body))["data"]) == 100
    assert len(body) < len(plain) / 3
    assert "Content-Encoding" not in plain_headers
    assert len(json.loads(plain)["data"]) == 100


async def test_the_openapi_document_comes_gzipped_when_asked_and_plain_otherwise(
    compressing: Api,
) -> None:
    api = compressing
    _, headers, body = await _raw_get(api, "/v1/openapi.json", "br;q=1.0, gzip;q=0.8")
    _, plain_headers, plain = await _raw_get(api, "/v1/openapi.json", "")
    _, refused_headers, _ = await _raw_get(api, "/v1/openapi.json", "gzip;q=0, identity")

    assert headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body)) == json.loads(plain)
    assert "Content-Encoding" not in plain_headers
    assert "Content-Encoding" not in refused_headers


async def test_a_small_answer_is_not_compressed(compressing: Api) -> None:
    _, headers, _ = await _raw_get(compressing, "/v1/account", "gzip")

    assert "Content-Encoding" not in headers


async def test_answers_are_plain_unless_compression_is_turned_on(api: Api) -> None:
    _, headers, _ = await _raw_get(api, "/v1/openapi.json", "gzip")

    assert "Content-Encoding" not in headers


# --- ending_before ---------------------------------------------------------------------------


async def _seven(api: Api, collection: str) -> list[str]:
    """Seven new rows, their ids newest first."""
    ids = []
    for n in range(7):
        answer = await call(
            api, "POST", collection, {"name": f"Customer {n}", "email": f"c{n}@example.test"}
        )
        assert answer.status == 201, answer.body
        ids.append(answer.data["id"])
    return ids[::-1]


def _ids(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [row["id"] for row in answer.data]


async def test_ending_before_pages_back_to_the_previous_page_newest_first(api: Api) -> None:
    newest_first = await _seven(api, "/v1/customers")
    first = await call(api, "GET", "/v1/customers?limit=3")
    second = await call(api, "GET", f"/v1/customers?limit=3&cursor={first.body['next_cursor']}")
    third = await call(api, "GET", f"/v1/customers?limit=3&cursor={second.body['next_cursor']}")

    back_to_second = await call(api, "GET", f"/v1/customers?limit=3&ending_before={_ids(third)[0]}")
    back_to_first = await call(
        api, "GET", f"/v1/customers?limit=3&ending_before={_ids(back_to_second)[0]}"
    )

    assert _ids(back_to_second) == _ids(second) == newest_first[3:6]
    assert back_to_second.body["has_more"] is True  # newer rows remain: the first page
    assert _ids(back_to_first) == _ids(first) == newest_first[0:3]
    assert back_to_first.body["has_more"] is False
    # Forward again from a backward page: its next_cursor reads on to older rows.
    onward = await call(
        api, "GET", f"/v1/customers?limit=3&cursor={back_to_first.body['next_cursor']}"
    )
    assert _ids(onward) == newest_first[3:6]


@pytest.mark.parametrize("collection", ["/v1/products", "/v1/tax-rates", "/v1/webhook-endpoints"])
async def test_ending_before_pages_every_other_list_backward(api: Api, collection: str) -> None:
    created = [await call(api, "POST", collection, _nth(collection, n)) for n in range(3)]
    oldest, middle, _ = (answer.data["id"] for answer in created)

    back = await call(api, "GET", f"{collection}?limit=1&ending_before={oldest}")
    unknown = await call(
        api, "GET", f"{collection}?ending_before=00000000-0000-4000-8000-000000000000"
    )

    assert _ids(back) == [middle]
    assert back.body["has_more"] is True
    assert unknown.status == 404, unknown.body


def _nth(collection: str, n: int) -> dict[str, Any]:
    """The n-th of several creates: skus and endpoint URLs must differ."""
    body = dict(CREATES[collection])
    if collection == "/v1/products":
        body["sku"] = f"RICE-{n}"
    if collection == "/v1/webhook-endpoints":
        body["url"] = f"http://127.0.0.1:9/hooks/{n}"
    return body


async def test_ending_before_pages_invoices_backward(api: Api, projector: None) -> None:
    created = [await call(api, "POST", "/v1/invoices", KREDO_INVOICE) for _ in range(5)]
    newest_first = [answer.data["id"] for answer in created][::-1]

    async def all_listed() -> bool:
        return _ids(await call(api, "GET", "/v1/invoices")) == newest_first

    await wait_until(all_listed, timeout=30)

    back = await call(api, "GET", f"/v1/invoices?limit=2&ending_before={newest_first[3]}")
    nearest = await call(api, "GET", f"/v1/invoices?limit=1&ending_before={newest_first[3]}")

    assert _ids(back) == newest_first[1:3]
    assert back.body["has_more"] is True
    assert _ids(nearest) == newest_first[2:3]


async def test_ending_before_with_a_cursor_is_refused_naming_it(api: Api) -> None:
    some_id = "00000000-0000-4000-8000-000000000000"
    answer = await call(
        api, "GET", f"/v1/customers?starting_after={some_id}&ending_before={some_id}"
    )

    assert answer.status == 422, answer.body
    assert answer.error["code"] == "validation_error"
    assert answer.error["details"][0]["field"] == "ending_before"


async def test_ending_before_an_unknown_invoice_is_not_found(api: Api) -> None:
    answer = await call(
        api, "GET", "/v1/invoices?ending_before=00000000-0000-4000-8000-000000000000"
    )

    assert answer.status == 404, answer.body


# --- Server ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/v1/invoices", "/no/such/page"])
async def test_the_server_header_names_no_versions(http: TestClient[Any, Any], path: str) -> None:
    response = await http.get(path)

    assert response.headers["Server"] == "risiti"
    assert not re.search(r"\d", response.headers["Server"])
