"""Every error of the domain and the service layer carries one stable code, the word every edge
uses for it (DESIGN.md §6); two errors share a code only when one is a kind of the other, or on
purpose, as listed here."""

from __future__ import annotations

import inspect
import re
from types import ModuleType

import pytest

from risiti.commands import errors as command_errors
from risiti.commands import paystack
from risiti.commands.errors import CommandError, ConcurrentUpdateError, NumberTakenError
from risiti.commands.errors import StaleVersionError as StaleVersion
from risiti.domain import errors as domain_errors
from risiti.domain.errors import DomainError, InvalidStateError

# Different errors that mean the same to a client.
SHARED_ON_PURPOSE = {
    frozenset({StaleVersion, ConcurrentUpdateError}),  # both: read it again and retry
    frozenset({NumberTakenError, DomainError}),  # a validation error: invoice_number is invalid
    frozenset({CommandError, InvalidStateError}),  # a refusal of the state things are in
}
MODULES: tuple[ModuleType, ...] = (domain_errors, command_errors, paystack)


def _error_classes() -> list[type[Exception]]:
    return [
        cls
        for module in MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, DomainError | CommandError) and cls.__module__ == module.__name__
    ]


def test_every_error_class_is_found() -> None:
    names = {cls.__name__ for cls in _error_classes()}
    assert {"DomainError", "InsufficientStockError", "NotFoundError", "SkuTakenError"} <= names
    assert {"PaystackSignatureError", "PaystackNotConfiguredError"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_has_a_code(cls: type[DomainError | CommandError]) -> None:
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", cls.code), cls.code


def _owner(cls: type[DomainError | CommandError]) -> type:
    """The class whose own `code` this one has: itself, or the ancestor it inherits it from."""
    return next(ancestor for ancestor in cls.__mro__ if "code" in vars(ancestor))


def test_error_codes_are_unique_but_within_a_family_or_on_purpose() -> None:
    classes = _error_classes()
    for one in classes:
        for other in classes:
            owners = frozenset({_owner(one), _owner(other)})
            if one.code == other.code and len(owners) == 2:
                assert owners in SHARED_ON_PURPOSE, (one.__name__, other.__name__, one.code)


def test_the_codes_clients_rely_on_are_stable() -> None:
    codes = {cls.__name__: cls.code for cls in _error_classes()}
    assert (
        codes
        | {
            "InvalidFieldError": "validation_error",
            "InvalidStateError": "invalid_state",
            "PaymentExceedsBalanceError": "payment_exceeds_balance",
            "PartialPaymentNotAllowedError": "partial_payment_not_allowed",
            "InstallmentLimitError": "installment_limit",
            "InsufficientStockError": "insufficient_stock",
            "CurrencyMismatchError": "currency_mismatch",
            "NotFoundError": "not_found",
            "StaleVersionError": "version_conflict",
            "ConcurrentUpdateError": "version_conflict",
            "SkuTakenError": "duplicate_sku",
            "PaystackSignatureError": "invalid_signature",
            "PaystackNotConfiguredError": "paystack_not_configured",
        }
        == codes
    )
