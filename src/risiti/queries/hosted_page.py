"""What the hosted page and the PDF read: the customer's copy of an invoice, folded from the log
with its account (never from the read models, so a customer who just paid sees the payment on
the very next page), and the PDF drawn from it (docs/hosted.md)."""

from __future__ import annotations

from uuid import UUID

from risiti.commands.invoices import get_invoice_by_token
from risiti.commands.ledger import Ledger
from risiti.domain import calendar
from risiti.domain.account import Account
from risiti.domain.invoice import Invoice
from risiti.presentation.customer_copy import CustomerCopy, write_customer_copy
from risiti.presentation.invoice_pdf import draw_invoice_pdf


async def customer_copy_of(ledger: Ledger, invoice: Invoice) -> CustomerCopy:
    """The invoice as its customer reads it, with its account's contact and bank details."""
    account = await ledger.get(Account, invoice.account_id)
    return write_customer_copy(invoice, account, today=calendar.today())


async def customer_copy_by_token(ledger: Ledger, token: str) -> CustomerCopy:
    """The customer's copy of the invoice a hosted-page link names (NotFoundError if none)."""
    invoice = await get_invoice_by_token(ledger, token)
    return await customer_copy_of(ledger, invoice)


async def invoice_pdf(ledger: Ledger, invoice_id: UUID) -> bytes:
    """The PDF of an invoice as it stands in the log now, for attaching to an email."""
    invoice = await ledger.get(Invoice, invoice_id)
    return await draw_invoice_pdf(await customer_copy_of(ledger, invoice))
