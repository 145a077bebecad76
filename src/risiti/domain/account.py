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
