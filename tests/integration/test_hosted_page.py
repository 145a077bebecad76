"""The hosted page and the PDF a customer opens from a text message (docs/hosted.md), over real
HTTP without an API key: what they show, how the page is paid in test mode, and that their
figures are the API's to the minor unit."""

from __future__ import annotations

import io
import logging
import re
import secrets
from typing import Any
from uuid import UUID

import asyncpg
import pypdf
import pytest

from risiti.commands.accounts import OpenedAccount
from risiti.commands.ledger import Ledger
from risiti.domain.money import Money
from risiti.queries.hosted_page import invoice_pdf

from .conftest import KREDO_INVOICE, Api, wait_until
from .http_calls import call, event_count

pytestmark = pytest.mark.asyncio

BASE = "http://risiti.test"
BANK = {
    "bank_name": "Wema Bank",
    "bank_account_name": "Ada's Kitchen Ltd",
    "bank_account_number": "8880000363",
    "contact_email": "hello@adaskitchen.test",
    "contact_phone": "+234 800 000 0000",
    "address": "Plot 64A, Ajaguna Street, Lekki Phase 1, Lagos",
}
# Every kind of figure: a discount, exclusive and inclusive taxes, taxed shipping.
FULL_INVOICE = {
    "customer": {"name": "Dana K. Adrian", "email": "dana@example.com", "phone": "+2348000000001"},
    "items": [
        {"description": "Web Development Fee", "quantity": 1, "unit_price": 15000000},
        {"description": "Domain Registration", "quantity": 4, "unit_price": 250000},
        {"description": "Half a kilo of <b>pepper</b>", "quantity": 0.5, "unit_price": 1001},
    ],
    "tax": {"value": "5", "description": "VAT"},
    "discount": {"type": "percentage", "value": 10},
    "shipping_fee": 150000,
    "accept_partial_payments": True,
    "due_date": "2099-06-20",
    "note": "Thank you for your business.",
}


def path_of(url: str) -> str:
    return url.removeprefix(BASE)


async def page(api: Api, url: str) -> tuple[int, str]:
    response = await api.http.get(path_of(url))  # no Authorization header
    return response.status, await response.text()


async def pdf_text(api: Api, url: str) -> str:
    response = await api.http.get(path_of(url))
    assert response.status == 200
    assert response.content_type == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(await response.read()))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4, in points
    return "\n".join(page.extract_text() for page in reader.pages)


async def new_invoice(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    status, created = await api.post("/v1/invoices", body)
    assert status == 201, created
    invoice: dict[str, Any] = created["data"]
    return invoice


async def set_details(api: Api, details: dict[str, Any]) -> dict[str, Any]:
    answer = await call(api, "PATCH", "/v1/account", details)
    assert answer.status == 200, answer.body
    account: dict[str, Any] = answer.data
    return account


async def pay_form(api: Api, invoice: dict[str, Any], version: int) -> Any:
    return await api.http.post(
        path_of(invoice["view_url"]) + "/pay", data={"version": str(version)}, allow_redirects=False
    )


def visible_text(html: str) -> str:
    """The page's text without tags and with whitespace collapsed, as a reader sees it."""
    body = html.split("<body>", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def ngn(amount: int) -> str:
    return Money(amount, "NGN").format()


# The page ----------------------------------------------------------------------------------


async def test_page_shows_business_customer_items_totals_and_how_to_pay(api: Api) -> None:
    await set_details(api, BANK)
    invoice = await new_invoice(api, FULL_INVOICE)

    status, html = await page(api, invoice["view_url"])
    text = visible_text(html)

    assert status == 200
    assert invoice["document_number"] in text
    assert "Invoice" in text and "Due" in text
    for value in BANK.values():
        assert value.replace("'", "&#39;") in html
    assert "Dana K. Adrian" in text and "dana@example.com" in text
    for item in invoice["items"]:
        assert ngn(item["amount"]) in text
    for figure in ("subtotal", "tax_total", "shipping_fee", "total", "amount_due"):
        assert ngn(invoice[figure]) in text, figure
    assert ngn(-invoice["discount_total"]) in text
    assert "20 Jun 2099" in text  # the due date, in the account's locale (en_NG)
    assert "&lt;b&gt;pepper&lt;/b&gt;" in html  # autoescaped
    assert "<script" not in html
    assert path_of(invoice["pdf_url"]) in html
    assert "Pay now (test)" in html


async def test_page_is_private_and_names_only_its_own_invoice(api: Api) -> None:
    invoice = await new_invoice(api, KREDO_INVOICE)
    other = await new_invoice(api, {**KREDO_INVOICE, "customer_name": "Someone Else"})
    token = path_of(invoice["view_url"]).removeprefix("/i/")

    response = await api.http.get(path_of(invoice["view_url"]))
    html = await response.text()

    assert len(token) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # ≥ 128 random bits
    assert invoice["id"] not in invoice["view_url"]
    assert '<meta name="robots" content="noindex">' in html
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert other["document_number"] not in html and other["id"] not in html
    assert "Someone Else" not in html and invoice["id"] not in html


async def test_unknown_link_is_a_404_page(api: Api) -> None:
    for path in ("/i/" + secrets.token_urlsafe(24), "/i/" + secrets.token_urlsafe(24) + ".pdf"):
        response = await api.http.get(path)
        assert response.status == 404
        assert response.content_type == "text/html"
        assert "not valid" in await response.text()


async def test_void_invoice_says_so_and_cannot_be_paid(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    invoice = await new_invoice(api, KREDO_INVOICE)
    voided = await call(api, "POST", f"/v1/invoices/{invoice['id']}/void", {})
    assert voided.status == 200

    _, html = await page(api, invoice["view_url"])
    before = await event_count(pool, account.account_id)
    paid = await pay_form(api, invoice, voided.data["version"])

    assert "was voided" in html and 'id="status">Void<' in html
    assert 'id="amount-due">₦0.00<' in html and "<th>Amount due</th><td>₦0.00</td>" in html
    assert "Pay now" not in html
    assert paid.status == 303  # back to the page, which still says void
    assert await event_count(pool, account.account_id) == before
    after = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    assert after.data["status"] == "void" and after.data["payments"] == []
    assert "VOID: NOT PAYABLE" in await pdf_text(api, invoice["pdf_url"])


async def test_deleted_draft_says_so_and_shows_nothing_of_it(api: Api) -> None:
    draft = await new_invoice(api, {**KREDO_INVOICE, "status": "draft"})
    deleted = await api.http.delete(
        f"/v1/invoices/{draft['id']}", headers={"Authorization": f"Bearer {api.key}"}
    )
    assert deleted.status == 200

    for url in (draft["view_url"], draft["pdf_url"]):
        response = await api.http.get(path_of(url))
        html = await response.text()
        assert response.status == 410
        assert "deleted this invoice" in html
        assert "AfriTech" not in html and "2,500" not in html


# Pay now (test) ----------------------------------------------------------------------------


async def test_pay_now_in_test_mode_pays_at_once_and_a_second_submit_pays_nothing(
    api: Api,
) -> None:
    invoice = await new_invoice(api, KREDO_INVOICE)

    first = await pay_form(api, invoice, invoice["version"])
    again = await pay_form(api, invoice, invoice["version"])  # a double tap
    _, html = await page(api, invoice["view_url"])  # read-your-writes: no projector running
    after = await call(api, "GET", f"/v1/invoices/{invoice['id']}")

    assert first.status == again.status == 303
    assert first.headers["Location"] == path_of(invoice["view_url"])
    assert after.data["status"] == "paid"
    assert [(p["amount"], p["method"]) for p in after.data["payments"]] == [(250000, "test")]
    assert 'id="status">Paid<' in html and "Pay now" not in html


async def test_pay_now_pays_what_is_left_of_a_partly_paid_invoice(api: Api) -> None:
    invoice = await new_invoice(api, {**KREDO_INVOICE, "accept_partial_payments": True})
    part = await call(api, "POST", f"/v1/invoices/{invoice['id']}/payments", {"amount": 100000})
    _, html = await page(api, invoice["view_url"])
    assert 'id="status">Partly paid<' in html and ngn(150000) in html

    await pay_form(api, invoice, part.data["version"])

    after = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    assert after.data["status"] == "paid"
    assert [p["amount"] for p in after.data["payments"]] == [100000, 150000]


async def test_live_invoice_offers_no_test_payment_and_refuses_one(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    live = Api(api.http, account.live_key)
    await set_details(live, BANK)
    invoice = await new_invoice(live, KREDO_INVOICE)
    _, html = await page(live, invoice["view_url"])
    before = await event_count(pool, account.account_id)

    refused = await pay_form(live, invoice, invoice["version"])

    assert "Pay now" not in html and "Test mode" not in html
    assert "8880000363" in html and "Wema Bank" in html  # live: the payment instructions
    assert "Paystack" not in html  # no Paystack key set
    assert refused.status == 403
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize("form", [{}, {"version": "two"}, {"version": "0"}])
async def test_pay_form_without_a_good_version_pays_nothing(api: Api, form: dict[str, str]) -> None:
    invoice = await new_invoice(api, KREDO_INVOICE)
    response = await api.http.post(path_of(invoice["view_url"]) + "/pay", data=form)
    assert response.status == 400
    after = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    assert after.data["payments"] == []


# Paystack in live mode ---------------------------------------------------------------------


async def test_live_page_offers_paystack_where_the_account_has_a_key(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    live = Api(api.http, account.live_key)
    await set_details(live, {"paystack_secret_key": f"sk_live_{secrets.token_hex(20)}"})
    invoice = await new_invoice(live, KREDO_INVOICE)
    _, html = await page(live, invoice["view_url"])
    before = await event_count(pool, account.account_id)

    # The tests' Paystack is a closed local port: the checkout cannot start.
    response = await live.http.post(
        path_of(invoice["view_url"]) + "/paystack", allow_redirects=False
    )

    assert f'action="{path_of(invoice["view_url"])}/paystack"' in html
    assert "with Paystack" in html
    assert response.status == 502
    assert "bank transfer" in await response.text()
    assert await event_count(pool, account.account_id) == before


async def test_test_page_offers_no_paystack_checkout(api: Api) -> None:
    await set_details(api, {"paystack_secret_key": f"sk_test_{secrets.token_hex(20)}"})
    invoice = await new_invoice(api, KREDO_INVOICE)
    _, html = await page(api, invoice["view_url"])
    response = await api.http.post(path_of(invoice["view_url"]) + "/paystack")
    assert "with Paystack" not in html
    assert response.status == 403


# The PDF -----------------------------------------------------------------------------------


async def test_pdf_holds_number_customer_and_the_api_figures(api: Api) -> None:
    await set_details(api, BANK)
    invoice = await new_invoice(api, FULL_INVOICE)

    text = await pdf_text(api, invoice["pdf_url"])

    assert invoice["document_number"] in text
    assert "Dana K. Adrian" in text
    assert "Wema Bank" in text and "8880000363" in text
    figures = re.findall(r"-?₦[\d,]+\.\d\d", text)
    expected = [ngn(invoice[k]) for k in ("subtotal", "tax_total", "shipping_fee", "total")]
    expected += [ngn(-invoice["discount_total"]), ngn(invoice["amount_due"])]
    expected += [ngn(item["amount"]) for item in invoice["items"]]
    for figure in expected:
        assert figure in figures, (figure, figures)


async def test_pdf_prints_names_in_our_customers_languages(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    name = "Ọláyínká Adébáyọ̀ · Ɗanjuma Ƙwari"
    invoice = await new_invoice(api, {**KREDO_INVOICE, "customer_name": name})
    xof = await new_invoice(api, {**KREDO_INVOICE, "customer_name": name, "currency": "XOF"})

    with caplog.at_level(logging.WARNING, logger="fpdf"):
        texts = [await pdf_text(api, created["pdf_url"]) for created in (invoice, xof)]

    assert all(name in text for text in texts)
    # The embedded font has every glyph: fpdf2 names any it had to leave out.
    assert not [r for r in caplog.records if "missing" in r.getMessage()], caplog.text


async def test_pdf_shows_payments_so_far(api: Api) -> None:
    invoice = await new_invoice(api, {**KREDO_INVOICE, "accept_partial_payments": True})
    await call(
        api,
        "POST",
        f"/v1/invoices/{invoice['id']}/payments",
        {"amount": 100000, "method": "bank_transfer", "reference": "TRF-77"},
    )
    text = await pdf_text(api, invoice["pdf_url"])
    assert "TRF-77" in text and "bank transfer" in text
    assert "Partly paid" in text and ngn(150000) in text


async def test_api_pdf_needs_the_key_and_is_the_same_document(api: Api) -> None:
    invoice = await new_invoice(api, KREDO_INVOICE)

    without_key = await api.http.get(f"/v1/invoices/{invoice['id']}/pdf")
    with_key = await api.http.get(
        f"/v1/invoices/{invoice['document_number']}/pdf",
        headers={"Authorization": f"Bearer {api.key}"},
    )
    reader = pypdf.PdfReader(io.BytesIO(await with_key.read()))

    assert without_key.status == 401
    assert with_key.status == 200 and with_key.content_type == "application/pdf"
    assert reader.pages[0].extract_text() == (await pdf_text(api, invoice["pdf_url"]))


async def test_the_send_job_gets_the_same_pdf_from_the_commands_layer(
    api: Api, ledger: Ledger
) -> None:
    invoice = await new_invoice(api, FULL_INVOICE)

    attached = await invoice_pdf(ledger, UUID(invoice["id"]))

    text = pypdf.PdfReader(io.BytesIO(attached)).pages[0].extract_text()
    assert text == await pdf_text(api, invoice["pdf_url"])
    assert invoice["document_number"] in text and ngn(invoice["total"]) in text


async def test_reads_and_lists_carry_the_pdf_url(api: Api, projector: None) -> None:
    invoice = await new_invoice(api, KREDO_INVOICE)
    read = await call(api, "GET", f"/v1/invoices/{invoice['id']}")
    listed = await wait_until(lambda: _listed(api))  # the list follows the log

    assert invoice["pdf_url"] == invoice["view_url"] + ".pdf"
    assert read.data["pdf_url"] == invoice["pdf_url"]
    assert listed["pdf_url"] == invoice["pdf_url"]


async def _listed(api: Api) -> dict[str, Any] | None:
    _, answer = await api.get("/v1/invoices", limit=1)
    return answer["data"][0] if answer["data"] else None


# Currencies --------------------------------------------------------------------------------


async def test_zero_decimal_xof_and_ngn_render_on_page_and_pdf(api: Api) -> None:
    xof = await new_invoice(api, {**KREDO_INVOICE, "currency": "XOF"})
    ngn_invoice = await new_invoice(api, KREDO_INVOICE)

    _, xof_html = await page(api, xof["view_url"])
    _, ngn_html = await page(api, ngn_invoice["view_url"])
    xof_pdf = await pdf_text(api, xof["pdf_url"])
    ngn_pdf = await pdf_text(api, ngn_invoice["pdf_url"])

    # 250000 in XOF's minor unit is 250,000 francs (no decimals); in NGN's it is ₦2,500.00.
    assert "F\u202fCFA250,000" in xof_html  # babel's narrow no-break space, kept in the PDF
    assert "F\u202fCFA250,000" in xof_pdf
    assert "250,000.00" not in xof_html + xof_pdf and "2,500.00" not in xof_html
    assert "₦2,500.00" in ngn_html and "₦2,500.00" in ngn_pdf


async def test_the_account_locale_writes_amounts_and_dates(api: Api) -> None:
    account = await set_details(api, {"locale": "fr_SN"})
    invoice = await new_invoice(
        api, {**KREDO_INVOICE, "currency": "XOF", "issue_date": "2026-03-05"}
    )
    _, html = await page(api, invoice["view_url"])
    text = visible_text(html).replace("\u202f", " ").replace("\xa0", " ")

    assert account["locale"] == "fr_SN"
    assert "250 000 F CFA" in text
    assert "5 mars 2026" in text


# Account details ---------------------------------------------------------------------------


async def test_account_details_are_read_changed_and_cleared(api: Api) -> None:
    set_ = await set_details(api, BANK | {"locale": "en_NG"})
    cleared = await set_details(api, {"bank_name": "", "contact_phone": None})

    assert {k: set_[k] for k in BANK} == BANK
    assert cleared["bank_name"] is None and cleared["contact_phone"] is None
    assert cleared["bank_account_number"] == "8880000363"
    assert (await call(api, "GET", "/v1/account")).data == cleared


@pytest.mark.parametrize(
    ("field", "value"), [("locale", "xx_YY"), ("bank_account_number", "12/34"), ("locale", "en-")]
)
async def test_bad_account_details_are_refused_and_change_nothing(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, field: str, value: str
) -> None:
    before = await event_count(pool, account.account_id)
    answer = await call(api, "PATCH", "/v1/account", {field: value})
    assert answer.status == 422
    assert answer.error["details"][0]["field"] == field
    assert await event_count(pool, account.account_id) == before
