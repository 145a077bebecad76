"""The hosted invoice page, `GET /i/{token}`: the link a business texts to its customer.

A minimal, server-rendered page for now: number, customer, items, totals and status.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from risiti.api.keys import LEDGER
from risiti.commands.errors import NotFoundError
from risiti.commands.invoices import get_invoice_by_token
from risiti.domain.invoice import Invoice
from risiti.domain.money import Money

routes = web.RouteTableDef()

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: auto; padding: 1rem">
<h1>{title}</h1>
<p>Billed to <strong>{customer}</strong> · Status: <strong>{status}</strong></p>
<table style="width: 100%; border-collapse: collapse">
<thead><tr><th align="left">Item</th><th align="right">Qty</th>
<th align="right">Amount</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>Total: <strong>{total}</strong><br>Amount due: <strong>{due}</strong></p>
</body></html>
"""


@routes.get("/i/{token}")
async def hosted_invoice(request: web.Request) -> web.Response:
    try:
        invoice = await get_invoice_by_token(request.app[LEDGER], request.match_info["token"])
    except NotFoundError:
        return web.Response(
            status=404, text="This invoice link is not valid.", headers={"X-Robots-Tag": "noindex"}
        )
    return web.Response(
        text=render_invoice_page(invoice),
        content_type="text/html",
        headers={"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"},
    )


def render_invoice_page(invoice: Invoice) -> str:
    def money(amount: int) -> str:
        return escape(Money(amount, invoice.currency).format())

    rows = "".join(
        f'<tr><td>{escape(item["description"])}</td><td align="right">{item["quantity"]}</td>'
        f'<td align="right">{money(priced.amount)}</td></tr>'
        for item, priced in zip(invoice.items, invoice.totals.lines, strict=True)
    )
    kind = "Receipt" if invoice.document_type == "receipt" else "Invoice"
    return _PAGE.format(
        title=escape(f"{kind} {invoice.document_number or '(draft)'}"),
        customer=escape(str(invoice.customer.get("name"))),
        status=escape(invoice.status.replace("_", " ")),
        rows=rows,
        total=money(invoice.totals.total),
        due=money(invoice.amount_due),
    )
