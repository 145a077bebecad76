"""An invoice's `callback_url` (a webhook receiver) and `return_url` (a page for the customer's
browser): the rules each must meet (docs/webhooks.md, docs/hosted.md)."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import Invoice, InvoiceDraft


def _draft(*, livemode: bool = False, **urls: str) -> InvoiceDraft:
    return InvoiceDraft(
        account_id=uuid4(),
        livemode=livemode,
        document_type="invoice",
        currency="NGN",
        customer={"name": "Ada"},
        items=[{"description": "Jollof", "quantity": 1, "unit_price": 500000}],
        issue_date=date(2026, 4, 1),
        **urls,  # type: ignore[arg-type]
    )


def _create(draft: InvoiceDraft) -> Invoice:
    return Invoice.create(draft, view_token="token")


def test_an_invoice_keeps_its_callback_and_return_urls() -> None:
    invoice = _create(
        _draft(callback_url="https://shop.test/paid", return_url="http://shop.test/thanks")
    )

    assert (invoice.callback_url, invoice.return_url) == (
        "https://shop.test/paid",
        "http://shop.test/thanks",
    )


def test_a_live_callback_url_must_use_https() -> None:
    with pytest.raises(InvalidFieldError) as refused:
        _create(_draft(livemode=True, callback_url="http://shop.test/paid"))
    assert refused.value.field == "callback_url"


@pytest.mark.parametrize("url", ["mailto:a@b.test", "https://", "shop.test/paid"])
def test_a_callback_url_must_be_an_http_url_with_a_host(url: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        _create(_draft(callback_url=url))
    assert refused.value.field == "callback_url"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://", "https://shop;test/x", "//shop.test/x"]
)
def test_a_return_url_must_be_a_web_page_with_a_host_name(url: str) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        _create(_draft(return_url=url))
    assert refused.value.field == "return_url"


def test_an_issued_invoice_may_still_change_where_it_calls_back_and_returns() -> None:
    invoice = _create(_draft())
    invoice.finalize("INV-2026-0001", invoice.created_on)

    invoice.update({"callback_url": "https://shop.test/new", "return_url": "https://shop.test/r"})

    assert invoice.callback_url == "https://shop.test/new"
    assert invoice.return_url == "https://shop.test/r"
