"""The Customer aggregate: who a business invoices, so its invoices and balances link up."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from risiti.domain.errors import InvalidFieldError
from risiti.domain.external_ids import checked_external_id

# Deliverability is the mail server's to judge; this only refuses what is plainly not an address:
# a local part without spaces or `@`, then a domain of dot-separated labels (letters, digits and
# inner hyphens, in any script) ending in a top-level name of letters.
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}$")


def normalized_email(email: str | None) -> str | None:
    """The form two spellings of one address share: `Ada@Example.com ` is `ada@example.com`."""
    if email is None or not email.strip():
        return None
    return email.strip().lower()


def checked_email(email: str | None, *, field: str = "email") -> str | None:
    """The address as kept (`normalized_email`), or None if none was given; refused, naming
    `field`, if it is not an email address (Paycashless' documented `[email protected]`,
    `ada.example.com`). The one rule for every email Risiti keeps: a customer's, and the
    customer an invoice names inline."""
    kept = normalized_email(email)
    if kept is not None and not _EMAIL_SHAPE.match(kept):
        raise InvalidFieldError(f"{field} is not an email address.", field=field)
    return kept


class Customer(Aggregate):
    """A customer of one account, in one mode (test or live)."""

    @classmethod
    def create(
        cls,
        *,
        account_id: UUID,
        livemode: bool,
        name: str,
        email: str | None = None,
        phone: str | None = None,
        address: str | None = None,
        metadata: dict[str, Any] | None = None,
        external_id: str | None = None,
    ) -> Customer:
        """Record a new customer; a name is all that is required. `external_id` is the id the
        business' old system gave it (`domain.external_ids`)."""
        if not name.strip():
            raise InvalidFieldError("A customer needs a name.", field="name")
        return cls(
            account_id=account_id,
            livemode=livemode,
            name=name.strip(),
            email=checked_email(email),
            phone=phone,
            address=address,
            metadata=metadata or {},
            external_id=checked_external_id(external_id),
        )

    @event("Created")
    def __init__(
        self,
        *,
        account_id: UUID,
        livemode: bool,
        name: str,
        email: str | None,
        phone: str | None,
        address: str | None,
        metadata: dict[str, Any],
        external_id: str | None = None,  # absent from customers created before it existed
    ) -> None:
        self.account_id = account_id
        self.livemode = livemode
        self.name = name
        self.email = email
        self.phone = phone
        self.address = address
        self.metadata = metadata
        self.external_id = external_id

    def as_invoice_customer(self) -> dict[str, Any]:
        """The copy an invoice keeps: what the customer was called when it was issued."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "address": self.address,
        }
