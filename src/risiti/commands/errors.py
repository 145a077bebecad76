"""Errors of the service layer, each with its stable `code` (see risiti.domain.errors)."""

from __future__ import annotations

from typing import ClassVar

from risiti.domain.errors import InvalidFieldError, InvalidStateError


class CommandError(Exception):
    """Base of the service layer's errors: a refusal without a finer code is one of the state
    things are in."""

    code: ClassVar[str] = InvalidStateError.code


class NotFoundError(CommandError):
    """Raised when the named object does not exist in the caller's account and mode."""

    code: ClassVar[str] = "not_found"

    def __init__(self, kind: str, identifier: object) -> None:
        super().__init__(f"No {kind} with id '{identifier}'.")
        self.kind = kind
        self.identifier = identifier


class UnknownReferenceError(NotFoundError):
    """Raised when a reference names none of the caller's customers (or tax rates): neither the
    id nor the external_id of one in the caller's account and mode."""

    def __init__(self, kind: str, reference: str) -> None:
        CommandError.__init__(self, f"No {kind} has the id or external_id '{reference}'.")
        self.kind = kind
        self.identifier = reference


class ConcurrentUpdateError(CommandError):
    """Raised when a command kept losing races to other writers of the same aggregate."""

    code: ClassVar[str] = "version_conflict"


class TransactionTooOldError(ConcurrentUpdateError):
    """Raised out of a ledger that joins another's transaction when an append in it was refused
    because that transaction's xid is older than the aggregate's last version's (the store's
    per-aggregate order). Every savepoint shares that xid, so no retry inside can succeed: the
    transaction's owner rolls it back and runs it again in a new one (`retry_in_new_transaction`).
    """


class StaleVersionError(CommandError):
    """Raised when If-Match names a version other than the object's current one."""

    code: ClassVar[str] = ConcurrentUpdateError.code

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"The object is at version {current}, not {expected}; read it again and retry."
        )
        self.expected = expected
        self.current = current


class NumberTakenError(CommandError):
    """Raised when a chosen document number is already another document's: to the client, the
    field `invoice_number` is invalid."""

    code: ClassVar[str] = InvalidFieldError.code

    def __init__(self, number: str) -> None:
        super().__init__(f"The number {number!r} is already used by another document.")
        self.number = number


class SignatureError(CommandError):
    """Raised when a request's signature does not verify against the secret that should have
    signed it (a signed API request's, or a Paystack webhook's)."""

    code: ClassVar[str] = "invalid_signature"


class SkuTakenError(CommandError):
    """Raised when a product's sku is already another product's in the same account and mode."""

    code: ClassVar[str] = "duplicate_sku"

    def __init__(self, sku: str) -> None:
        super().__init__(f"The sku {sku!r} is already another product's.")
        self.sku = sku


class ExternalIdTakenError(CommandError):
    """Raised when a customer's or tax rate's external_id is already another's of its kind in
    the same account and mode; `holder_id` is that other one's id."""

    code: ClassVar[str] = "duplicate_external_id"

    def __init__(self, kind: str, external_id: str, holder_id: object) -> None:
        super().__init__(
            f"The external_id {external_id!r} is already the {kind} {holder_id}'s; "
            f"name that {kind} by it, or give this one another external_id."
        )
        self.kind = kind
        self.external_id = external_id
        self.holder_id = holder_id
