"""What the customer receives: the invoice email (plain text and HTML, with attachments) and
the short text message, each with the hosted link (docs/api.md, "Sending invoices and
reminders"). Building a message does no I/O; the channels send it."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from babel.dates import format_date

from risiti.domain.invoice import Invoice
from risiti.domain.money import Money
from risiti.presentation.documents import view_url

LOCALE = "en_NG"

Attachment = tuple[str, str, bytes]
"""A file to attach: (file name, content type such as `application/pdf`, content)."""


@dataclass(frozen=True)
class InvoiceNotice:
    """What any message about an invoice says, worded once for every channel."""

    business_name: str
    customer_name: str
    document: str
    """`Invoice INV-2026-0001` (or `Receipt …`)."""
    total: str
    amount_due: str
    due_date: str | None
    view_url: str
    reminder: str | None
    """For a reminder, where the invoice stands: `due in 3 days`, `due today`, `7 days overdue`."""


def invoice_notice(
    invoice: Invoice,
    *,
    business_name: str,
    base_url: str,
    reminder: bool,
    today: date,
) -> InvoiceNotice:
    """The notice of an invoice as it is now (a reminder states the amount due today)."""
    kind = "Invoice" if invoice.document_type == "invoice" else "Receipt"
    due = invoice.due_date
    return InvoiceNotice(
        business_name=business_name,
        customer_name=str(invoice.customer.get("name") or ""),
        document=f"{kind} {invoice.document_number}",
        total=Money(invoice.totals.total, invoice.currency).format(LOCALE),
        amount_due=Money(invoice.amount_due, invoice.currency).format(LOCALE),
        due_date=format_date(due, format="long", locale=LOCALE) if due else None,
        view_url=view_url(base_url, invoice.view_token),
        reminder=_standing(due, today) if reminder and due else None,
    )


def _standing(due: date, today: date) -> str:
    days = (due - today).days
    if days > 1:
        return f"due in {days} days"
    if days == 1:
        return "due tomorrow"
    if days == 0:
        return "due today"
    return "1 day overdue" if days == -1 else f"{-days} days overdue"


def invoice_email(
    notice: InvoiceNotice,
    *,
    sender: str,
    to: str,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """The email: plain text with an HTML alternative, and the given files attached (such as
    the invoice's PDF)."""
    message = EmailMessage()
    message["Subject"] = _subject(notice)
    message["From"] = formataddr((notice.business_name, sender))
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(_text_body(notice))
    message.add_alternative(_html_body(notice), subtype="html")
    for filename, content_type, content in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _subject(notice: InvoiceNotice) -> str:
    if notice.reminder:
        return f"Reminder: {notice.document} from {notice.business_name} is {notice.reminder}"
    return f"{notice.document} from {notice.business_name}"


def _intro(notice: InvoiceNotice) -> str:
    if notice.reminder:
        return (
            f"A reminder from {notice.business_name}: {notice.document} is {notice.reminder}, "
            f"with {notice.amount_due} still to pay."
        )
    return f"{notice.business_name} has sent you {notice.document}."


def _figures(notice: InvoiceNotice) -> list[tuple[str, str]]:
    figures = [("Total", notice.total), ("Amount due", notice.amount_due)]
    if notice.due_date:
        figures.append(("Due date", notice.due_date))
    return figures


def _text_body(notice: InvoiceNotice) -> str:
    lines = [f"Hello {notice.customer_name},", "", _intro(notice), ""]
    lines += [f"{label}: {value}" for label, value in _figures(notice)]
    lines += ["", f"View it online: {notice.view_url}", "", notice.business_name, ""]
    return "\n".join(lines)


def _html_body(notice: InvoiceNotice) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(label)}</td><td><strong>{e(value)}</strong></td></tr>"
        for label, value in _figures(notice)
    )
    link = e(notice.view_url, quote=True)
    return (
        "<!doctype html><html><body>"
        f"<p>Hello {e(notice.customer_name)},</p>"
        f"<p>{e(_intro(notice))}</p>"
        f"<table>{rows}</table>"
        f'<p><a href="{link}">View {e(notice.document)} online</a></p>'
        f"<p>{e(notice.business_name)}</p>"
        "</body></html>"
    )


def invoice_text(notice: InvoiceNotice) -> str:
    """The text message: short enough for one or two SMS parts, with the link."""
    if notice.reminder:
        return (
            f"Reminder from {notice.business_name}: {notice.document} ({notice.amount_due}) "
            f"is {notice.reminder}. View: {notice.view_url}"
        )
    due = f" due {notice.due_date}" if notice.due_date else ""
    return (
        f"{notice.business_name}: {notice.document}, {notice.amount_due}{due}. "
        f"View: {notice.view_url}"
    )
