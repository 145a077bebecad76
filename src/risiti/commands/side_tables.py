"""Rows written with their events, from one place: `LedgerTransaction.save` looks up each new
event's class in SIDE_TABLE_WRITERS and writes what it names in the events' transaction, so no
command handler writes a list record, a uniqueness row or a copied setting by hand (as the
eventsourcing library's `examples/ftscontentmanagement` gathers its `PageInfo` rows in `save()`).

The rows are written before the events are appended, after everything the command read: a row
that is another's (an email, a sku, a number) refuses the command before any event is stored.
Secrets never enter an event, so the commands that make them keep them (`eventstore/accounts.py`,
`eventstore/outbox.py`); and a number is taken from its counter before, since Finalized carries it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from eventsourcing.domain import Aggregate

from risiti.commands.caller import kind_of
from risiti.commands.errors import ExternalIdTakenError, NumberTakenError, SkuTakenError
from risiti.domain.account import Account
from risiti.domain.customer import Customer
from risiti.domain.errors import InvalidFieldError
from risiti.domain.invoice import Invoice
from risiti.domain.product import Product
from risiti.domain.tax_rate import TaxRate
from risiti.domain.webhook_endpoint import WebhookEndpoint
from risiti.eventstore.errors import RowTakenError
from risiti.eventstore.recording import SideTables
from risiti.presentation.customers import customer_record
from risiti.presentation.products import product_record
from risiti.presentation.tax_rates import tax_rate_record
from risiti.presentation.webhook_endpoints import webhook_endpoint_record

SideTableWriter = Callable[[SideTables, Any], Awaitable[None]]
"""Writes an aggregate's rows as its new events leave it (the aggregate after all of them)."""

EXTERNAL_ID_KINDS: dict[type[Customer | TaxRate], str] = {Customer: "customer", TaxRate: "tax_rate"}
"""The aggregates an external id can name, and the kind each is kept under."""


async def keep_external_id(tables: SideTables, aggregate: Customer | TaxRate) -> None:
    """ExternalIdTakenError if its external_id is another's of its kind, account and mode."""
    if aggregate.external_id is None:
        return
    holder = await tables.claim_external_id(
        aggregate.account_id,
        aggregate.livemode,
        EXTERNAL_ID_KINDS[type(aggregate)],
        aggregate.external_id,
        aggregate.id,
    )
    if holder != aggregate.id:
        raise ExternalIdTakenError(kind_of(type(aggregate)), aggregate.external_id, holder)


async def keep_customer(tables: SideTables, customer: Customer) -> None:
    """Its external id and listed record; ExternalIdTakenError if its external_id is another
    customer's, InvalidFieldError if its email is."""
    await keep_external_id(tables, customer)
    kept = await tables.save_customer(
        customer.id,
        customer.account_id,
        customer.livemode,
        customer.email,
        customer.created_on,
        customer_record(customer),
    )
    if not kept:
        raise InvalidFieldError(
            f"A customer with the email {customer.email} already exists.", field="email"
        )


async def keep_tax_rate(tables: SideTables, tax_rate: TaxRate) -> None:
    """Its external id and listed record; ExternalIdTakenError if its external_id is another
    tax rate's."""
    await keep_external_id(tables, tax_rate)
    await tables.save_listed_record(
        "tax_rates",
        tax_rate.id,
        tax_rate.account_id,
        tax_rate.livemode,
        tax_rate.created_on,
        tax_rate_record(tax_rate),
    )


async def keep_product(tables: SideTables, product: Product) -> None:
    """Its listed record as it now reads; SkuTakenError if its sku is another product's."""
    try:
        await tables.save_product(
            product.id,
            product.account_id,
            product.livemode,
            product.sku,
            product.created_on,
            product_record(product),
        )
    except RowTakenError:
        raise SkuTakenError(product.sku) from None


async def keep_webhook_endpoint(tables: SideTables, endpoint: WebhookEndpoint) -> None:
    """Its listed record as it now reads; a deleted endpoint is no longer listed."""
    if endpoint.deleted:
        await tables.delete_webhook_endpoint_record(endpoint.id)
        return
    await tables.save_listed_record(
        "webhook_endpoint_records",
        endpoint.id,
        endpoint.account_id,
        endpoint.livemode,
        endpoint.created_on,
        webhook_endpoint_record(endpoint),
    )


async def keep_invoice_token(tables: SideTables, invoice: Invoice) -> None:
    """The hosted page's link finds the invoice by its token."""
    await tables.save_invoice_token(invoice.view_token, invoice.id)


async def keep_invoice_number(tables: SideTables, invoice: Invoice) -> None:
    """NumberTakenError if its number is another document's of the account and mode (here, or
    from the append that writes the row with the events: `refusal_of_taken_row`)."""
    number = str(invoice.document_number)
    try:
        await tables.claim_invoice_number(invoice.account_id, invoice.livemode, number, invoice.id)
    except RowTakenError as taken:
        raise refusal_of_taken_row(taken) from None


def refusal_of_taken_row(taken: RowTakenError) -> NumberTakenError:
    """The command's refusal of a row written with the events and found another's: of those
    rows only an invoice's document number can be taken."""
    return NumberTakenError(str(taken))


async def keep_signed_requests(tables: SideTables, account: Account) -> None:
    """Read with each key by the edge, before any account is loaded."""
    await tables.set_signed_requests(account.id, account.require_signed_requests)


async def keep_reminder_days(tables: SideTables, account: Account) -> None:
    """Read by the reminders job for every account at once."""
    await tables.set_reminder_days(account.id, account.reminder_days)


async def keep_negative_stock(tables: SideTables, account: Account) -> None:
    """Read by the stock job, which loads invoices and products, not accounts."""
    await tables.set_negative_stock_allowed(account.id, account.allow_negative_stock)


def named_event(aggregate: type[Aggregate], name: str) -> type[Aggregate.Event]:
    """An event class declared by name (`@event("Registered")`), which type checkers cannot
    see; a misspelt name fails on import, not by writing nothing."""
    found = getattr(aggregate, name)
    if not (isinstance(found, type) and issubclass(found, Aggregate.Event)):
        raise TypeError(f"{aggregate.__name__}.{name} is not an event")
    return found


SIDE_TABLE_WRITERS: dict[type[object], SideTableWriter] = {
    Customer.Created: keep_customer,
    TaxRate.Created: keep_tax_rate,
    Product.Created: keep_product,
    Product.Updated: keep_product,
    Product.StockAdjusted: keep_product,
    named_event(WebhookEndpoint, "Registered"): keep_webhook_endpoint,
    WebhookEndpoint.Updated: keep_webhook_endpoint,
    WebhookEndpoint.Disabled: keep_webhook_endpoint,
    WebhookEndpoint.Deleted: keep_webhook_endpoint,
    Invoice.Created: keep_invoice_token,
    Invoice.Finalized: keep_invoice_number,
    named_event(Account, "SignedRequestsRequired"): keep_signed_requests,
    named_event(Account, "RemindersScheduled"): keep_reminder_days,
    named_event(Account, "NegativeStockAllowed"): keep_negative_stock,
}
"""What each event class writes beside the log. An aggregate's record that shows its version
(a product's) is written on each of its events; the others on the events that change them."""


async def write_side_tables(
    tables: SideTables, aggregate: Aggregate, events: Sequence[object]
) -> None:
    """Write the rows the new events call for, each writer once however many events name it,
    through the unit of work's side tables (so in PostgreSQL or in memory alike)."""
    writers: list[SideTableWriter] = []
    for event in events:
        writer = SIDE_TABLE_WRITERS.get(type(event))
        if writer is not None and writer not in writers:
            writers.append(writer)
    for writer in writers:
        await writer(tables, aggregate)
