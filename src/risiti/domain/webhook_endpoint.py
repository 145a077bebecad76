"""The WebhookEndpoint aggregate: where an account wants its events delivered."""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from risiti.domain.errors import InvalidFieldError

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
)


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
    ) -> WebhookEndpoint:
        """Register an endpoint; `["*"]` subscribes to every event type."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidFieldError("url must be an http or https URL.", field="url")
        if livemode and parts.scheme != "https":
            raise InvalidFieldError("Live endpoints must use https.", field="url")
        unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
        if unknown or not events:
            raise InvalidFieldError(
                f"Unknown event types: {', '.join(unknown) or 'none given'}.", field="events"
            )
        return cls(
            account_id=account_id,
            livemode=livemode,
            url=url,
            events=events,
            description=description,
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
    ) -> None:
        self.account_id = account_id
        self.livemode = livemode
        self.url = url
        self.events = events
        self.description = description
        self.enabled = True

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to an event type."""
        return self.enabled and ("*" in self.events or event_type in self.events)
