"""What the hosted page does for the customer who opens it: read the invoice its link names,
pay it in test mode, or start a Paystack checkout in live mode (docs/hosted.md).

The link's token is the only credential, and it names one invoice: nothing here reaches
another. Everything is read from the log (the invoice folded from its events), not from the
read models, so a customer who just paid sees the payment on the very next page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from risiti.commands.caller import Caller
from risiti.commands.errors import CommandError
from risiti.commands.invoices import RecordPayment, get_invoice_by_token, record_payment
from risiti.commands.ledger import Ledger
from risiti.domain.invoice import OPEN, PARTIALLY_PAID, Invoice
from risiti.domain.money import minor_units
from risiti.eventstore import accounts

HOSTED_PAGE_KEY_ID = "hosted_page"
"""Who a test payment made on the page is recorded for: no key of the account, but its link."""
TEST_PAYMENT_METHOD = "test"
PAYSTACK_TIMEOUT_SECONDS = 10.0


class NotPayableHereError(CommandError):
    """Raised when the page is asked to take a payment it does not offer: a test payment on a
    live invoice, or a Paystack checkout where the account has no Paystack key or the customer
    no email."""


class PaystackUnavailableError(CommandError):
    """Raised when Paystack could not be reached or refused to start a checkout."""


def customer_amount(invoice: Invoice, major: Decimal | None) -> int:
    """What the customer chose to pay, in minor units: the amount they typed on the page (in
    major units, as people write it), else the whole amount due. Refused with the domain's
    error unless the invoice offers it (`Invoice.check_customer_payment`)."""
    if major is None:
        amount = invoice.amount_due
    else:
        amount = minor_units(major, invoice.currency, field="amount")
    invoice.check_customer_payment(amount)
    return amount


async def pay_in_test_mode(
    ledger: Ledger, token: str, version: int, major: Decimal | None = None
) -> Invoice:
    """Pay a test-mode invoice from its page, the whole amount due or, where the invoice
    offers it, the part the customer chose (`major`), through the same command as
    `POST /v1/invoices/{id}/payments`, so `invoice.paid` fires as it would for the API.

    `version` is the one the page showed: a second submit of the same form (a double tap, the
    back button) finds a newer version and is refused with StaleVersionError, so it never pays
    twice; a stale page cannot pay an amount it did not show.
    """
    invoice = await get_invoice_by_token(ledger, token)
    if invoice.livemode:
        raise NotPayableHereError("Live invoices are paid by transfer or through Paystack.")
    command = RecordPayment(
        caller=Caller(invoice.account_id, invoice.livemode, HOSTED_PAGE_KEY_ID),
        invoice_id=invoice.id,
        expected_version=version,
        amount=customer_amount(invoice, major),
        method=TEST_PAYMENT_METHOD,
        reference=f"hosted-page-v{version}",
        by_customer=True,
    )
    return await record_payment(ledger, command)


@dataclass(frozen=True)
class PaystackCheckout:
    """Where to start Paystack's hosted checkout, and where Paystack sends the customer back."""

    api_url: str
    callback_url: str


async def start_paystack_checkout(
    ledger: Ledger, token: str, checkout: PaystackCheckout, major: Decimal | None = None
) -> str:
    """Initialize a Paystack transaction for a live invoice's amount due (or the part of it the
    customer chose, where the invoice offers it), naming the invoice in its metadata (so the
    `charge.success` webhook records the payment on it), and answer the checkout's
    `authorization_url` to send the customer to."""
    invoice = await get_invoice_by_token(ledger, token)
    email = invoice.customer.get("email")
    async with ledger.connection() as conn:
        secret_key = await accounts.find_paystack_secret_key(
            conn, invoice.account_id, invoice.livemode
        )
    payable = invoice.status in (OPEN, PARTIALLY_PAID) and invoice.amount_due > 0
    if not (invoice.livemode and payable and secret_key and email):
        raise NotPayableHereError("This invoice cannot be paid through Paystack here.")
    body = {
        "email": email,
        "amount": customer_amount(invoice, major),
        "currency": invoice.currency,
        "callback_url": checkout.callback_url,
        "metadata": {"invoice_id": str(invoice.id)},
    }
    answer = await _paystack_post(checkout.api_url, "/transaction/initialize", secret_key, body)
    url = (answer.get("data") or {}).get("authorization_url")
    if not answer.get("status") or not isinstance(url, str):
        raise PaystackUnavailableError(str(answer.get("message") or "Paystack said no."))
    return url


async def _paystack_post(
    api_url: str, path: str, secret_key: str, body: dict[str, Any]
) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=PAYSTACK_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(
                api_url.rstrip("/") + path,
                json=body,
                headers={"Authorization": f"Bearer {secret_key}"},
            ) as response,
        ):
            answer: dict[str, Any] = await response.json(content_type=None)
            return answer
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise PaystackUnavailableError(f"Paystack could not be reached: {error}") from None
