"""The hosted invoice page's HTML (docs/hosted.md): the customer's copy rendered with jinja2,
autoescaped, no JavaScript; and the short notice pages (not found, deleted, nothing was paid)."""

from __future__ import annotations

from functools import cache

import jinja2

from risiti.presentation.customer_copy import CustomerCopy


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("risiti.presentation", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def render_page(copy: CustomerCopy, token: str) -> str:
    """The page's HTML (no I/O)."""
    return (
        _templates()
        .get_template("invoice.html")
        .render(
            copy=copy,
            pay_path=f"/i/{token}/pay",
            paystack_path=f"/i/{token}/paystack",
            pdf_path=f"/i/{token}.pdf",
        )
    )


def render_notice(heading: str, message: str, back: str | None = None) -> str:
    """A notice page's HTML: what happened, and a link back to the invoice when there is one."""
    return (
        _templates().get_template("notice.html").render(heading=heading, message=message, back=back)
    )
