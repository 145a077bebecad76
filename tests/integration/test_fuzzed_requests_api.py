"""Requests schemathesis found answered wrongly (test_openapi.py), each kept as the plain
request it was, so that the cause stays fixed whatever the fuzzer draws next time."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from risiti.api.routes import openapi_document
from risiti.commands.accounts import OpenedAccount

from .conftest import KREDO_INVOICE, Api
from .http_calls import call, event_count

pytestmark = pytest.mark.asyncio

UNKNOWN_ID = "e3e70682-c209-1cac-a29f-6fbed82c07cd"


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary: aiohttp cannot split the parts
        "application/x-www-form-urlencoded; charset=no-such-charset",
    ],
)
async def test_a_pay_form_that_cannot_be_read_is_incomplete_and_pays_nothing(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, content_type: str
) -> None:
    created = await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    page = urlsplit(created.data["view_url"]).path
    before = await event_count(pool, account.account_id)

    response = await api.http.post(
        f"{page}/pay", data=b"version=1", headers={"Content-Type": content_type}
    )

    assert response.status == 400
    assert response.content_type == "text/html"
    assert "The form was incomplete." in await response.text()
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize(
    "path",
    ["/v1/invoices", "/v1/customers", "/v1/products", "/v1/tax-rates", "/v1/webhook-endpoints"],
)
async def test_a_list_starting_after_no_such_object_is_a_documented_not_found(
    api: Api, path: str
) -> None:
    answer = await call(api, "GET", f"{path}?starting_after={UNKNOWN_ID}")

    assert answer.status == 404, answer.body
    assert answer.error["code"] == "not_found"
    documented: dict[str, Any] = openapi_document()["paths"][path]["get"]["responses"]
    assert "404" in documented
