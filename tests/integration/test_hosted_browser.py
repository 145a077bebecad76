"""The hosted page in a real browser, as a customer on a phone opens it from a text message:
Debian's Chromium, headless, driven by Playwright, at 360 x 740 (docs/hosted.md).

Chromium comes from Debian's `chromium` package: the `chromium` fixture installs it with apt-get
when it is missing and the tests run as root, and otherwise fails saying what to install.
Playwright's own browser download is never used. Screenshots are kept in tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, async_playwright
from standardwebhooks.webhooks import Webhook

from .conftest import KREDO_INVOICE, Api, Receiver, wait_until

pytestmark = pytest.mark.asyncio

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling home, which a closed network
# refuses slowly; --no-sandbox because tests often run as root (in containers, in CI).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 360, "height": 740}


def _install_chromium() -> None:
    """Debian's chromium, installed with apt-get where the tests may (root); else a clear
    failure that says what to install."""
    if os.path.exists(CHROMIUM):
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}: "
            "run `sudo apt-get install -y --no-install-recommends chromium` and try again."
        )
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        check=True,
        env=env,
        timeout=900,
    )
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"apt-get installed chromium, but {CHROMIUM} is not there.")


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    _install_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


# The first run on a fresh machine installs Chromium in the fixture, within this test's time.
@pytest.mark.timeout(900)
async def test_customer_pays_on_a_phone_and_the_business_hears_invoice_paid(
    chromium: Browser,
    http: TestClient[Any, Any],
    api: Api,
    receiver: Receiver,
    projector: None,
    worker: None,
) -> None:
    _, endpoint = await api.post(
        "/v1/webhook-endpoints", {"url": receiver.url, "events": ["invoice.paid"]}
    )
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)
    invoice = created["data"]
    view_path = invoice["view_url"].removeprefix("http://risiti.test")
    ARTIFACTS.mkdir(exist_ok=True)

    context = await chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    response = await page.goto(str(http.make_url(view_path)))
    assert response is not None and response.status == 200
    assert (
        await page.locator("#document-number").inner_text()
        == f"Invoice {invoice['document_number']}"
    )
    assert await page.get_by_text("₦2,500.00").first.is_visible()
    assert await page.locator("#status").inner_text() == "Due"
    # Readable on the phone: nothing wider than the screen.
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(ARTIFACTS / "hosted_invoice_due.png"), full_page=True)

    await page.get_by_role("button", name="Pay now (test)").click()
    await page.wait_for_load_state()

    assert page.url == str(http.make_url(view_path))
    assert await page.locator("#status").inner_text() == "Paid"
    assert await page.get_by_role("button", name="Pay now (test)").count() == 0
    await page.screenshot(path=str(ARTIFACTS / "hosted_invoice_paid.png"), full_page=True)
    await context.close()

    await wait_until(lambda: _received(receiver), timeout=30)
    headers, body = receiver.received[0]
    payload = Webhook(endpoint["data"]["secret"]).verify(body, headers)
    assert payload["event"] == "invoice.paid"
    assert payload["data"]["id"] == invoice["id"]
    assert payload["data"]["amount_paid"] == 250000
    assert json.loads(body)["data"]["payments"][0]["method"] == "test"


async def _received(receiver: Receiver) -> bool:
    return bool(receiver.received)


@pytest.mark.timeout(900)
async def test_a_void_invoice_page_says_it_is_void_with_nothing_due(
    chromium: Browser, http: TestClient[Any, Any], api: Api
) -> None:
    _, created = await api.post("/v1/invoices", KREDO_INVOICE)
    invoice = created["data"]
    status, _ = await api.post(f"/v1/invoices/{invoice['id']}/void", {})
    assert status == 200
    ARTIFACTS.mkdir(exist_ok=True)

    context = await chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    response = await page.goto(
        str(http.make_url(invoice["view_url"].removeprefix("http://risiti.test")))
    )
    assert response is not None and response.status == 200

    assert await page.locator("#status").inner_text() == "Void"
    assert await page.get_by_text("was voided").is_visible()
    assert await page.locator("#amount-due").inner_text() == "₦0.00"
    figures = await page.locator("table.figures").inner_text()
    assert "Amount due\t₦0.00" in figures
    assert await page.get_by_role("button", name="Pay now (test)").count() == 0
    # Nowhere on the page is the old total still called due.
    assert "Amount due ₦2,500.00" not in " ".join((await page.inner_text("main")).split())
    await page.screenshot(path=str(ARTIFACTS / "hosted_invoice_void.png"), full_page=True)
    await context.close()
