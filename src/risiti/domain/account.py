"""The Account aggregate: a business, its secret keys (hashed elsewhere) and its settings."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate, event

from risiti.domain.errors import InvalidFieldError


class Account(Aggregate):
    """A business that uses Risiti."""

    @classmethod
    def open(cls, name: str) -> Account:
        """Open an account for a business."""
        if not name.strip():
            raise InvalidFieldError("An account needs a name.", field="name")
        return cls(name=name.strip())

    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name
        self.api_keys: dict[str, bool] = {}
        self.require_signed_requests = False
        self.paystack_configured: dict[bool, bool] = {}
        self.allow_negative_stock = False

    def issue_api_key(self, key_id: str, livemode: bool, issued_at: datetime) -> None:
        """Record that a secret key was issued; the key itself is never part of an event."""
        self._api_key_issued(key_id=key_id, livemode=livemode, issued_at=issued_at)

    @event("ApiKeyIssued")
    def _api_key_issued(self, key_id: str, livemode: bool, issued_at: datetime) -> None:
        self.api_keys[key_id] = livemode

    def set_signed_requests(self, required: bool) -> None:
        """Require (or stop requiring) a signature on every request of the account's keys."""
        if required != self.require_signed_requests:
            self._signed_requests_required(required=required)

    @event("SignedRequestsRequired")
    def _signed_requests_required(self, required: bool) -> None:
        self.require_signed_requests = required

    def set_paystack_secret_key(self, livemode: bool, configured: bool, set_at: datetime) -> None:
        """Record that the Paystack secret key of one mode was set (or removed); the key itself
        is kept beside the log, never in an event."""
        self._paystack_secret_key_set(livemode=livemode, configured=configured, set_at=set_at)

    @event("PaystackSecretKeySet")
    def _paystack_secret_key_set(self, livemode: bool, configured: bool, set_at: datetime) -> None:
        self.paystack_configured[livemode] = configured

    def has_paystack_secret_key(self, livemode: bool) -> bool:
        return self.paystack_configured.get(livemode, False)

    def set_negative_stock(self, allowed: bool) -> None:
        """Allow (or stop allowing) stock to go below zero (docs/api.md, "Inventory")."""
        if allowed != self.allow_negative_stock:
            self._negative_stock_allowed(allowed=allowed)

    @event("NegativeStockAllowed")
    def _negative_stock_allowed(self, allowed: bool) -> None:
        self.allow_negative_stock = allowed
