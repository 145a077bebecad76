"""The hosted invoice page, `GET /i/{token}`: the link a business texts to its customer, its
PDF, and the page's two ways to pay (docs/hosted.md).

Public: the routes under /i/ take no API key (auth.PUBLIC_PREFIXES); the token is the only
credential. Answers are HTML (or the PDF), never the JSON envelope, since a person reads them.
Server-rendered with jinja2 (autoescaped, `risiti.presentation.hosted_page`), no JavaScript.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pydantic
from aiohttp import web

from risiti.api.keys import CALLER, LEDGER, SETTINGS, ledger_for
from risiti.api.models import HostedCheckoutForm, HostedPaymentForm
from risiti.commands import hosted_page
from risiti.commands.errors import NotFoundError, StaleVersionError
from risiti.domain.errors import DomainError, InvalidFieldError, PaymentExceedsBalanceError
from risiti.domain.invoice import PAID
from risiti.presentation.customer_copy import CustomerCopy
from risiti.presentation.hosted_page import render_notice, render_page
from risiti.presentation.invoice_pdf import draw_invoice_pdf, pdf_filename
from risiti.queries.hosted_page import customer_copy_by_token, customer_copy_of
from risiti.queries.invoices import get_invoice

_PRIVATE = {
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # No script runs on the page, no other site may frame it, and its forms post only here
    # (or, for a live checkout, redirect on to Paystack's).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self' https://checkout.paystack.com; frame-ancestors 'none'; base-uri 'none'",
}


def _notice(status: int, heading: str, message: str, back: str | None = None) -> web.Response:
    html = render_notice(heading, message, back)
    return web.Response(status=status, text=html, content_type="text/html", headers=_PRIVATE)


def _not_found() -> web.Response:
    return _notice(404, "Invoice not found", "This invoice link is not valid.")


def _deleted(copy: CustomerCopy) -> web.Response:
    # A deleted draft shows nothing of what it held: only that it is gone.
    return _notice(410, "Invoice deleted", f"{copy.business.name} deleted this invoice.")


async def _copy(request: web.Request) -> CustomerCopy | None:
    try:
        return await customer_copy_by_token(request.app[LEDGER], request.match_info["token"])
    except NotFoundError:
        return None


async def hosted_invoice(request: web.Request) -> web.Response:
    copy = await _copy(request)
    if copy is None:
        return _not_found()
    if copy.state == "deleted":
        return _deleted(copy)
    html = render_page(copy, request.match_info["token"])
    return web.Response(text=html, content_type="text/html", headers=_page_headers(copy))


def _page_headers(copy: CustomerCopy) -> dict[str, str]:
    """The page's headers; its form may also lead on to the invoice's return URL, where the
    customer is sent once paid (browsers check a form's redirects against `form-action`)."""
    if copy.return_url is None:
        return _PRIVATE
    parts = urlsplit(copy.return_url)
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    policy = _PRIVATE["Content-Security-Policy"].replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return _PRIVATE | {"Content-Security-Policy": policy}


async def hosted_invoice_pdf(request: web.Request) -> web.Response:
    copy = await _copy(request)
    if copy is None:
        return _not_found()
    if copy.state == "deleted":
        return _deleted(copy)
    return await _pdf_response(copy)


async def invoice_pdf(request: web.Request) -> web.Response:
    ledger = ledger_for(request)
    invoice = await get_invoice(ledger, request[CALLER], request.match_info["id"])
    return await _pdf_response(await customer_copy_of(ledger, invoice))


async def _pdf_response(copy: CustomerCopy) -> web.Response:
    return web.Response(
        body=await draw_invoice_pdf(copy),
        content_type="application/pdf",
        headers=_PRIVATE | {"Content-Disposition": f'inline; filename="{pdf_filename(copy)}"'},
    )


async def pay_in_test_mode(request: web.Request) -> web.Response:
    """The "Pay now (test)" form; answers 303 back to the page, which shows the payment, or,
    once the invoice is paid, to its return URL if it has one."""
    token = request.match_info["token"]
    try:
        form = HostedPaymentForm.model_validate(await _form_fields(request))
    except (pydantic.ValidationError, _UnreadableFormError):
        return _notice(400, "Nothing was paid", "The form was incomplete.", f"/i/{token}")
    try:
        paid = await hosted_page.pay_in_test_mode(
            request.app[LEDGER], token, form.version, form.amount
        )
    except NotFoundError:
        return _not_found()
    except hosted_page.NotPayableHereError as refused:
        return _notice(403, "Nothing was paid", str(refused), f"/i/{token}")
    except (InvalidFieldError, PaymentExceedsBalanceError) as refused:
        # An amount the page does not offer: more than is due, or part where it is paid whole.
        return _notice(400, "Nothing was paid", str(refused), f"/i/{token}")
    except (StaleVersionError, DomainError):
        # Paid by an earlier submit of this form, or changed since the page was shown: nothing
        # was recorded now, and the page says where the invoice stands.
        return _see_other(f"/i/{token}")
    if paid.status == PAID and paid.return_url is not None:
        return _see_other(paid.return_url)
    return _see_other(f"/i/{token}")


class _UnreadableFormError(Exception):
    """Raised when a body claims to be a form but cannot be read as one (a multipart body
    without its boundary, an unknown charset)."""


async def _form_fields(request: web.Request) -> dict[str, object]:
    try:
        return dict(await request.post())
    except (ValueError, LookupError):  # aiohttp's own words for a malformed form
        raise _UnreadableFormError from None


async def pay_with_paystack(request: web.Request) -> web.Response:
    """Start Paystack's checkout for a live invoice and send the customer there (303)."""
    token = request.match_info["token"]
    settings = request.app[SETTINGS]
    checkout = hosted_page.PaystackCheckout(
        api_url=settings.paystack_api_url, callback_url=f"{settings.base_url}/i/{token}"
    )
    try:
        form = HostedCheckoutForm.model_validate(await _form_fields(request))
    except (pydantic.ValidationError, _UnreadableFormError):
        return _notice(400, "Nothing was paid", "The form was incomplete.", f"/i/{token}")
    try:
        url = await hosted_page.start_paystack_checkout(
            request.app[LEDGER], token, checkout, form.amount
        )
    except NotFoundError:
        return _not_found()
    except hosted_page.NotPayableHereError as refused:
        return _notice(403, "Paystack is not available", str(refused), f"/i/{token}")
    except (InvalidFieldError, PaymentExceedsBalanceError) as refused:
        return _notice(400, "Nothing was paid", str(refused), f"/i/{token}")
    except hosted_page.PaystackUnavailableError:
        return _notice(
            502,
            "Paystack is not available",
            "Paystack could not start the payment just now. Try again in a moment, or pay by "
            "bank transfer as the invoice shows.",
            f"/i/{token}",
        )
    return _see_other(url)


def _see_other(location: str) -> web.Response:
    """Post/Redirect/Get: a reload of the page that follows never posts the form again."""
    return web.Response(status=303, headers=_PRIVATE | {"Location": location})
