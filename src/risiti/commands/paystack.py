"""Paystack inbound (docs/api.md, "Paystack"): a signed `charge.success` records a payment on the
invoice its metadata names, once per Paystack reference. The charge is money the customer has
paid: it is recorded whatever its size up to the amount due (DESIGN.md §5), as the business'
own record of a payment is; what the checkout offered was checked when it started.

Paystack sends no API key: the invoice names its account and mode, whose Paystack secret key
must have signed the raw body (`x-paystack-signature`, hex HMAC-SHA512). The reference is noted in
`paystack_payments` in the transaction that records the payment, so Paystack's retries of a
delivery record nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.errors import NotFoundError, SignatureError
from risiti.commands.invoices import RecordPayment, record_payment
from risiti.commands.ledger import Ledger, retry_in_new_transaction
from risiti.domain.errors import (
    CurrencyMismatchError,
    DomainError,
    InvalidFieldError,
    InvalidStateError,
    PaymentExceedsBalanceError,
)
from risiti.domain.invoice import DELETED, Invoice
from risiti.eventstore import accounts, invoice_keys
from risiti.eventstore.recorder import notify_appended

PAYSTACK_METHOD = "paystack"
PAYSTACK_KEY_ID = "paystack"
"""Who the payment is recorded for: no key of the account, but Paystack's signed webhook."""


class PaystackSignatureError(SignatureError):
    """Raised when a webhook is not signed with the Paystack secret key of the invoice's account
    and mode."""


class PaystackNotConfiguredError(PaystackSignatureError):
    """Raised when the invoice's account has no Paystack secret key for the mode, so no webhook
    for it can be verified."""

    code: ClassVar[str] = "paystack_not_configured"


class PaystackReason(StrEnum):
    """Why a delivery recorded nothing, in the words only Paystack's answer uses; the invoice's
    other refusals are named by their errors' codes (PAYSTACK_REASONS lists them all)."""

    EVENT_IGNORED = "event_ignored"
    NO_INVOICE_NAMED = "no_invoice_named"
    ALREADY_RECORDED = "already_recorded"
    INVALID_PAYMENT = "invalid_payment"
    """A payment refused for its fields (an amount of zero): Paystack's answer names no field."""


# Every `reason` a Paystack answer can carry, in the order the API reference lists them.
PAYSTACK_REASONS: tuple[str, ...] = (
    PaystackReason.EVENT_IGNORED,
    PaystackReason.NO_INVOICE_NAMED,
    PaystackReason.ALREADY_RECORDED,
    CurrencyMismatchError.code,
    PaymentExceedsBalanceError.code,
    InvalidStateError.code,
    PaystackReason.INVALID_PAYMENT,
)


@dataclass(frozen=True)
class PaystackCharge:
    """The parts of a `charge.success` event's `data` a payment needs."""

    reference: str
    amount: int
    """In the currency's subunit (kobo for NGN), as Paystack sends it."""
    currency: str
    paid_at: datetime
    invoice_id: UUID | None = None
    invoice_number: str | None = None
    account_id: UUID | None = None
    """With `invoice_number`: whose series the number belongs to."""
    livemode: bool = False
    """With `invoice_number`: which mode's series (Paystack's `data.domain`)."""


@dataclass(frozen=True)
class ChargeOutcome:
    invoice: Invoice
    recorded: bool
    reason: str | None = None
    """Why nothing was recorded: one of PAYSTACK_REASONS."""


async def record_paystack_charge(
    ledger: Ledger, charge: PaystackCharge, raw_body: bytes, signature: str
) -> ChargeOutcome:
    """Record a signed Paystack charge on the invoice it names, at most once per reference.

    Raises NotFoundError for an invoice that does not exist (or is a deleted draft) and
    PaystackSignatureError for a signature that is not the invoice's account's.
    """
    invoice = await _named_invoice(ledger, charge)
    await _verify_signature(ledger, invoice, raw_body, signature)
    if charge.currency.upper() != invoice.currency:
        return ChargeOutcome(invoice, recorded=False, reason=CurrencyMismatchError.code)
    command = RecordPayment(
        caller=Caller(invoice.account_id, invoice.livemode, PAYSTACK_KEY_ID),
        invoice_id=invoice.id,
        amount=charge.amount,
        method=PAYSTACK_METHOD,
        reference=charge.reference,
        paid_at=charge.paid_at,
    )

    async def record() -> ChargeOutcome:
        async with ledger.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    # A delivery of the same charge in flight holds this row until it ends.
                    if not await invoice_keys.claim_paystack_reference(
                        conn, charge.reference, invoice.id
                    ):
                        return ChargeOutcome(
                            invoice, recorded=False, reason=PaystackReason.ALREADY_RECORDED
                        )
                    paid = await record_payment(ledger.joining(conn), command)
            except DomainError as refused:  # the claim is rolled back with the payment
                return ChargeOutcome(invoice, recorded=False, reason=_refusal(refused))
            await notify_appended(conn)
        return ChargeOutcome(paid, recorded=True)

    # The claim takes the transaction's xid before the invoice is read: a payment appended
    # meanwhile by another transaction makes this one too old to append after it.
    return await retry_in_new_transaction(record)


async def _named_invoice(ledger: Ledger, charge: PaystackCharge) -> Invoice:
    named: object = charge.invoice_id
    invoice_id = charge.invoice_id
    if invoice_id is None:
        if charge.invoice_number is None or charge.account_id is None:
            raise ValueError("a charge names an invoice by id, or by number with its account")
        named = charge.invoice_number
        async with ledger.connection() as conn:
            invoice_id = await invoice_keys.find_invoice_by_number(
                conn, charge.account_id, charge.livemode, charge.invoice_number
            )
        if invoice_id is None:
            raise NotFoundError("invoice", named)
    invoice = await ledger.get(Invoice, invoice_id)
    if invoice.status == DELETED:
        raise NotFoundError("invoice", named)
    return invoice


async def _verify_signature(
    ledger: Ledger, invoice: Invoice, raw_body: bytes, signature: str
) -> None:
    async with ledger.connection() as conn:
        secret_key = await accounts.find_paystack_secret_key(
            conn, invoice.account_id, invoice.livemode
        )
    if secret_key is None:
        raise PaystackNotConfiguredError(
            "The invoice's account has no Paystack secret key for this mode "
            "(PATCH /v1/account {paystack_secret_key}).",
        )
    expected = hmac.new(secret_key.encode(), raw_body, hashlib.sha512).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise PaystackSignatureError("x-paystack-signature does not match the request body.")


def _refusal(error: DomainError) -> str:
    """The refused payment's code; Paystack's answer has no field to name for a field error."""
    return PaystackReason.INVALID_PAYMENT if error.code == InvalidFieldError.code else error.code
