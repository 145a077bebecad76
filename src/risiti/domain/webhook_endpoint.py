"""The WebhookEndpoint aggregate: where an account wants its events delivered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from risiti.domain.errors import InvalidFieldError, InvalidStateError

EVENT_TYPES = (
    "invoice.created",
    "invoice.finalized",
    "invoice.updated",
    "invoice.sent",
    "invoice.payment_recorded",
    "invoice.partially_paid",
    "invoice.paid",
    "invoice.overdue",
    "invoice.voided",
    "invoice.deleted",
    "receipt.created",
    "customer.created",
    "product.stock_low",
    "product.out_of_stock",
    "inventory.adjusted",
    "webhook_endpoint.disabled",
)

# How an endpoint's bodies are written: Risiti's own payload (DESIGN.md §7), or Kredo's
# documented `invoice.paid` body for an integration written against Kredo (§11). Either way the
# Standard Webhooks headers sign it.
RISITI, KREDO = "risiti", "kredo"
PAYLOAD_FORMATS = (RISITI, KREDO)
# The events each format has a body for; Kredo documents `invoice.paid` alone.
# `*` is every event type Risiti's format has; a Kredo-format endpoint names its one event.
FORMAT_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    RISITI: ("*", *EVENT_TYPES),
    KREDO: ("invoice.paid",),
}

# Why Risiti disabled an endpoint on its own: the receiver answered 410 Gone, or every attempt
# failed for days on end (five, by default).
GONE = "gone"
FAILING = "failing"


def subscribes_to(events: Sequence[str], event_type: str) -> bool:
    """Whether a subscription to `events` takes an event of `event_type` (`*` takes every one)."""
    return "*" in events or event_type in events


class WebhookEndpoint(Aggregate):
    """A URL that receives an account's events of the chosen types."""

    @classmethod
    def register(
        cls,
        *,
        account_id: UUID,
        livemode: bool,
        url: str,
        events: list[str],
        description: str | None = None,
        payload_format: str = RISITI,
    ) -> WebhookEndpoint:
        """Register an endpoint; `["*"]` subscribes to every event type its format has."""
        check_url(url, livemode=livemode)
        check_events(events, payload_format)
        return cls(
            account_id=account_id,
            livemode=livemode,
            url=url,
            events=events,
            description=description,
            payload_format=payload_format,
        )

    @event("Registered")
    def __init__(
        self,
        *,
        account_id: UUID,
        livemode: bool,
        url: str,
        events: list[str],
        description: str | None,
        payload_format: str = RISITI,
    ) -> None:
        self.account_id = account_id
        self.livemode = livemode
        self.url = url
        self.events = events
        self.description = description
        self.payload_format = payload_format
        self.enabled = True
        self.deleted = False
        self.disabled_reason: str | None = None

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint takes events of a type now."""
        return self.enabled and not self.deleted and subscribes_to(self.events, event_type)

    def update(self, changes: dict[str, Any]) -> None:
        """Change url, events, payload_format, description or enabled; a change to nothing
        appends nothing."""
        self._require_not_deleted("update")
        refused = sorted(set(changes) - UPDATABLE_FIELDS)
        if refused:
            raise InvalidFieldError(f"Cannot change {', '.join(refused)}.", field=refused[0])
        if "url" in changes:
            check_url(changes["url"], livemode=self.livemode)
        if "events" in changes or "payload_format" in changes:
            check_events(
                changes.get("events", self.events),
                changes.get("payload_format", self.payload_format),
            )
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if changed:
            self._updated(changes=changed)

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

    @event(Updated)
    def _updated(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        if self.enabled:
            self.disabled_reason = None

    def disable(self, reason: str) -> None:
        """Stop deliveries because the receiver is gone or kept failing; the owner may enable
        the endpoint again. A disabled or deleted endpoint stays as it is."""
        if self.enabled and not self.deleted:
            self._disabled(reason=reason)

    class Disabled(Aggregate.Event):
        reason: str

    @event(Disabled)
    def _disabled(self, reason: str) -> None:
        self.enabled = False
        self.disabled_reason = reason

    def rotate_secret(self, expire_current_after_seconds: int) -> None:
        """Note that a new secret replaced the current ones, which sign on for the given time.
        The secrets themselves live beside the log, never in it."""
        self._require_not_deleted("rotate the secret of")
        if not 0 <= expire_current_after_seconds <= MAX_SECRET_OVERLAP_SECONDS:
            raise InvalidFieldError(
                f"expire_current_after_seconds must be 0 to {MAX_SECRET_OVERLAP_SECONDS}.",
                field="expire_current_after_seconds",
            )
        self._secret_rotated(expire_current_after_seconds=expire_current_after_seconds)

    class SecretRotated(Aggregate.Event):
        expire_current_after_seconds: int

    @event(SecretRotated)
    def _secret_rotated(self, expire_current_after_seconds: int) -> None:
        """Nothing of the aggregate changes: the secrets live beside the log, and the event
        records only that a rotation happened and how long the old secret stays valid."""

    def request_test_event(self) -> None:
        """Ask for a `webhook_endpoint.test` event to be sent to this endpoint alone, whatever
        it subscribed to and even while it is disabled: its owner wants to see one arrive."""
        self._require_not_deleted("send a test event to")
        self._test_requested()

    class TestRequested(Aggregate.Event):
        pass

    @event(TestRequested)
    def _test_requested(self) -> None:
        """Nothing of the endpoint changes: the dispatcher sends the test event."""

    def delete(self) -> None:
        """Stop delivering to this endpoint for good; its history stays in the log."""
        self._require_not_deleted("delete")
        self._deleted()

    class Deleted(Aggregate.Event):
        pass

    @event(Deleted)
    def _deleted(self) -> None:
        self.deleted = True
        self.enabled = False

    def _require_not_deleted(self, action: str) -> None:
        if self.deleted:
            raise InvalidStateError(
                f"Cannot {action} a deleted webhook endpoint.", current="deleted", allowed=()
            )


UPDATABLE_FIELDS = frozenset({"url", "events", "payload_format", "description", "enabled"})
MAX_SECRET_OVERLAP_SECONDS = 7 * 24 * 3600


def check_url(url: str, *, livemode: bool, field: str = "url") -> None:
    """An http(s) URL with a host; https in live mode. Where it resolves is checked apart.
    An invoice's `callback_url` is a receiver too, and passes the same rule."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidFieldError(f"{field} must be an http or https URL.", field=field)
    if livemode and parts.scheme != "https":
        raise InvalidFieldError(f"{field} must use https in live mode.", field=field)


def check_events(events: list[str], payload_format: str = RISITI) -> None:
    """Known event types, at least one, each with a body in the endpoint's format: a Kredo-format
    endpoint takes `invoice.paid` alone, the one event Kredo documents."""
    if payload_format not in PAYLOAD_FORMATS:
        raise InvalidFieldError(
            f"payload_format must be one of {', '.join(PAYLOAD_FORMATS)}.", field="payload_format"
        )
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
    if unknown or not events:
        raise InvalidFieldError(
            f"Unknown event types: {', '.join(unknown) or 'none given'}.", field="events"
        )
    has_body = FORMAT_EVENT_TYPES[payload_format]
    without_body = [e for e in events if e not in has_body]
    if without_body:
        raise InvalidFieldError(
            f"A {payload_format}-format endpoint takes only {', '.join(has_body)}; "
            f"it has no body for {', '.join(without_body)}.",
            field="events",
        )
