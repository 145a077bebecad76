"""Errors the domain raises when a business rule refuses a command.

Each class says when it is raised and carries its stable `code`, the one name every edge gives
it: the API's error envelope (DESIGN.md §6), which adds the HTTP status, and Paystack's answer to
a refused charge. A subclass without a code of its own shares its family's on purpose.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base of every rule the domain enforces; a refusal without a finer code is a validation
    error, as is every field that breaks a rule."""

    code: ClassVar[str] = "validation_error"


class InvalidFieldError(DomainError):
    """Raised when a field breaks a rule; `field` is the request path of the offending value,
    for the `details` of a validation error."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidInvoiceError(InvalidFieldError):
    """Raised when an invoice's fields break a rule: no items, a negative price, an empty name."""


class UnknownCurrencyError(InvalidInvoiceError):
    """Raised for a currency code that is not ISO 4217."""


class CurrencyMismatchError(DomainError):
    """Raised when amounts of two currencies are added, subtracted or compared."""

    code: ClassVar[str] = "currency_mismatch"


class DiscountExceedsSubtotalError(InvalidInvoiceError):
    """Raised when an invoice-level discount is larger than what it discounts."""


class InvalidStateError(DomainError):
    """Raised when a command is not allowed in the invoice's current status."""

    code: ClassVar[str] = "invalid_state"

    def __init__(self, message: str, current: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.current = current
        self.allowed = allowed


class NotOverdueError(DomainError):
    """Raised when an invoice cannot be marked overdue: it is not open or partly paid, has no due
    date or one not yet passed, or was already marked overdue for this due date (or a later one)."""

    code: ClassVar[str] = "not_overdue"


class PaymentExceedsBalanceError(DomainError):
    """Raised when a payment is larger than the amount due."""

    code: ClassVar[str] = "payment_exceeds_balance"

    def __init__(self, amount: int, amount_due: int) -> None:
        super().__init__(f"A payment of {amount} exceeds the amount due of {amount_due}.")
        self.amount = amount
        self.amount_due = amount_due


class PartialPaymentNotAllowedError(InvalidInvoiceError):
    """Raised when the customer, on the hosted page or the checkout, would pay less than the
    amount due of an invoice that does not accept partial payments. A payment the business
    records is never refused for its size (DESIGN.md §5)."""

    code: ClassVar[str] = "partial_payment_not_allowed"

    def __init__(self, amount: int, amount_due: int) -> None:
        super().__init__(
            f"This invoice does not accept partial payments: pay the amount due of {amount_due}.",
            field="amount",
        )


class InstallmentLimitError(InvalidInvoiceError):
    """Raised when the customer, on the hosted page or the checkout, would pay part of the
    amount due in the last installment the invoice allows, which must pay the balance."""

    code: ClassVar[str] = "installment_limit"

    def __init__(self, amount: int, amount_due: int, max_installments: int) -> None:
        super().__init__(
            f"This invoice may be paid in at most {max_installments} installments and this is "
            f"the last: pay the amount due of {amount_due}, not {amount}.",
            field="amount",
        )


class NotRemindableError(DomainError):
    """Raised when a reminder is asked for an invoice that is not open or partly paid, or whose
    customer has neither an email nor a phone number to remind."""

    code: ClassVar[str] = "not_remindable"


class SendSettledError(DomainError):
    """Raised when the outcome of a send (sent, failed, cancelled) is recorded for a channel of
    a send request that has none, or whose outcome is already recorded."""

    code: ClassVar[str] = "send_settled"


class InsufficientStockError(DomainError):
    """Raised when an adjustment would take stock below zero and the account does not allow
    negative stock."""

    code: ClassVar[str] = "insufficient_stock"

    def __init__(self, stock: int, delta: int) -> None:
        super().__init__(
            f"Only {stock} in stock: an adjustment of {delta} would take it below zero, and "
            "this account does not allow negative stock."
        )
        self.stock = stock
        self.delta = delta
