"""Customer commands: create; and linking an invoice's customer to its record (reads: queries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger, LedgerTransaction
from risiti.commands.references import referenced
from risiti.domain.customer import Customer, checked_email
from risiti.domain.errors import InvalidFieldError
from risiti.eventstore import listings
from risiti.eventstore.errors import VersionConflictError


@dataclass(frozen=True)
class CreateCustomer:
    caller: Caller
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None


async def create_customer(ledger: Ledger, command: CreateCustomer) -> Customer:
    """Create a customer; an email or an external_id already another customer's is refused."""
    customer = Customer.create(
        account_id=command.caller.account_id,
        livemode=command.caller.livemode,
        name=command.name,
        email=command.email,
        phone=command.phone,
        address=command.address,
        metadata=command.metadata,
        external_id=command.external_id,
    )
    async with ledger.transaction() as tx:
        # ExternalIdTakenError or InvalidFieldError if the external_id or the email is another
        # customer's (`side_tables.keep_customer`).
        await tx.save(customer, account_id=customer.account_id, livemode=customer.livemode)
    return customer


async def linked_customer(
    tx: LedgerTransaction,
    caller: Caller,
    customer: dict[str, Any],
    *,
    reference_field: str = "customer_id",
) -> dict[str, Any]:
    """The customer an invoice keeps: the record of the customer its `id` names (a Risiti id or
    an external_id; unknown, a validation error naming `reference_field`); an inline customer
    linked to the customer with its email, who is created on first sight; without an email, as
    given."""
    if customer.get("id"):
        named = await referenced(tx, Customer, customer["id"], caller, field=reference_field)
        return named.as_invoice_customer()
    email = checked_email(customer.get("email"), field="customer.email")
    if email is None:
        return {**customer, "id": None}
    found = await listings.find_customer_by_email(
        tx.conn, caller.account_id, caller.livemode, email
    )
    if found is None:
        created = Customer.create(
            account_id=caller.account_id,
            livemode=caller.livemode,
            name=str(customer.get("name") or ""),
            email=email,
            phone=customer.get("phone"),
            address=customer.get("address"),
        )
        try:
            await tx.save(created, account_id=created.account_id, livemode=created.livemode)
        except InvalidFieldError:
            # Another request created this customer a moment ago; decide again and link to it.
            raise VersionConflictError(f"customer {email} was created concurrently") from None
        found = created.id
    return {**customer, "id": found, "email": email}
