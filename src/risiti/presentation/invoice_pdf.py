"""The invoice as an A4 PDF: the customer's copy, the same content and figures as the hosted
page, drawn with fpdf2 in DejaVu Sans (embedded, so ₦ and the other currency signs print).

`risiti.queries.hosted_page.invoice_pdf` draws one from the log, for attaching to an email.
"""

from __future__ import annotations

import asyncio
from importlib.resources import files

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace

from risiti.presentation.customer_copy import CustomerCopy

FONT = "DejaVu"
_FONTS = files("risiti.presentation") / "fonts"
_WIDTH = 180.0  # A4's 210 mm less two 15 mm margins
_GREY = (90, 90, 90)


def pdf_filename(copy: CustomerCopy) -> str:
    """What the PDF is called when downloaded or attached: the invoice's number."""
    name = copy.document_number or f"draft-{copy.invoice_id}"
    return name.replace('"', "") + ".pdf"


async def draw_invoice_pdf(copy: CustomerCopy) -> bytes:
    """`render_invoice_pdf` in a worker thread: drawing takes tens of milliseconds of CPU,
    which the event loop then shares with the requests around it instead of stalling them."""
    return await asyncio.to_thread(render_invoice_pdf, copy)


def render_invoice_pdf(copy: CustomerCopy) -> bytes:
    """The customer's copy as an A4 PDF (no I/O but reading the packaged font)."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font(FONT, "", str(_FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(copy.title)
    pdf.set_author(copy.business.name)
    pdf.set_creator("Risiti")
    pdf.add_page()
    _heading(pdf, copy)
    _parties(pdf, copy)
    _items(pdf, copy)
    _figures(pdf, copy)
    _payments(pdf, copy)
    _how_to_pay(pdf, copy)
    return bytes(pdf.output())


def _heading(pdf: FPDF, copy: CustomerCopy) -> None:
    pdf.set_font(FONT, "B", 18)
    pdf.cell(_WIDTH / 2, 9, copy.business.name, new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.cell(_WIDTH / 2, 9, copy.title, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    contact = [copy.business.address, copy.business.email, copy.business.phone]
    dates = [f"Issued {copy.issue_date}"] + ([f"Due {copy.due_date}"] if copy.due_date else [])
    dates.append(f"Status: {copy.status_label}")
    for left, right in _pairs([c for c in contact if c], dates):
        pdf.set_text_color(*_GREY)
        pdf.cell(_WIDTH / 2, 5, left, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_text_color(0)
        pdf.cell(_WIDTH / 2, 5, right, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if copy.state in ("void", "deleted"):
        pdf.ln(2)
        pdf.set_font(FONT, "B", 14)
        pdf.set_text_color(170, 0, 0)
        pdf.cell(_WIDTH, 8, f"{copy.status_label.upper()}: NOT PAYABLE", align=Align.C)
        pdf.set_text_color(0)
        pdf.ln(8)
    pdf.ln(4)


def _pairs(left: list[str], right: list[str]) -> list[tuple[str, str]]:
    rows = max(len(left), len(right))
    return [(_at(left, i), _at(right, i)) for i in range(rows)]


def _at(values: list[str], index: int) -> str:
    return values[index] if index < len(values) else ""


def _parties(pdf: FPDF, copy: CustomerCopy) -> None:
    pdf.set_font(FONT, "B", 10)
    pdf.cell(_WIDTH, 6, "Billed to", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    customer = copy.customer
    for line in (customer.name, customer.address, customer.email, customer.phone):
        if line:
            pdf.multi_cell(_WIDTH, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if copy.reference:
        pdf.cell(_WIDTH, 5, f"Reference: {copy.reference}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _items(pdf: FPDF, copy: CustomerCopy) -> None:
    """The lines; the discount and tax columns only where some line has one."""
    with_discount = any(line.discount for line in copy.lines)
    with_tax = any(line.tax for line in copy.lines)
    columns = [("Item", 0.0, "LEFT"), ("Qty", 14.0, "RIGHT"), ("Unit price", 30.0, "RIGHT")]
    columns += [("Discount", 26.0, "RIGHT")] if with_discount else []
    columns += [("Tax", 26.0, "RIGHT")] if with_tax else []
    columns.append(("Amount", 32.0, "RIGHT"))
    widths = [width for _, width, _ in columns]
    widths[0] = _WIDTH - sum(widths)
    pdf.set_font(FONT, "", 9)
    with pdf.table(
        col_widths=tuple(widths),
        text_align=tuple(align for _, _, align in columns),
        headings_style=FontFace(family=FONT, emphasis="BOLD"),
        line_height=6,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        table.row([heading for heading, _, _ in columns])
        for line in copy.lines:
            label = f"{line.description}\n{line.details}" if line.details else line.description
            cells = [label, line.quantity, line.unit_price]
            cells += [line.discount or ""] if with_discount else []
            cells += [line.tax or ""] if with_tax else []
            table.row([*cells, line.amount])
    pdf.ln(3)


def _figures(pdf: FPDF, copy: CustomerCopy) -> None:
    for figure in copy.figures:
        pdf.set_font(FONT, "B" if figure.strong else "", 11 if figure.strong else 10)
        pdf.cell(_WIDTH - 45, 6, figure.label, align=Align.R, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(45, 6, figure.amount, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _payments(pdf: FPDF, copy: CustomerCopy) -> None:
    if not copy.payments:
        return
    pdf.set_font(FONT, "B", 10)
    pdf.cell(_WIDTH, 6, "Payments", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    for payment in copy.payments:
        said = f"{payment.paid_on} · {payment.method}"
        if payment.reference:
            said += f" · {payment.reference}"
        if payment.reversed:
            said += " (reversed)"
        pdf.cell(_WIDTH - 45, 5, said, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(45, 5, payment.amount, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _how_to_pay(pdf: FPDF, copy: CustomerCopy) -> None:
    bank = copy.bank_account
    if bank is not None and copy.payable:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(_WIDTH, 6, "How to pay", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 10)
        pdf.cell(
            _WIDTH,
            5,
            f"Transfer {copy.amount_due} to:",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        for label, value in (
            ("Bank", bank.bank_name),
            ("Account name", bank.account_name),
            ("Account number", bank.account_number),
        ):
            if value:
                pdf.cell(_WIDTH, 5, f"{label}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
    if copy.note:
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*_GREY)
        pdf.multi_cell(_WIDTH, 5, copy.note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0)
