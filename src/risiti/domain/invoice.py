"""The Invoice aggregate: invoices and receipts, from draft to paid (DESIGN.md §4, §5).

Public methods hold the rules; the private `@event` methods only change state, because they run
again on every replay and a later rule must never make stored history unloadable.

It is the longest module of the domain because an invoice's rules, its events and the overdue
and aging rules that read its state are one subject: split across files, each rule would sit
away from the state it guards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from risiti.domain.customer import checked_email
from risiti.domain.errors import (
    InstallmentLimitError,
    InvalidInvoiceError,
    InvalidStateError,
    NotOverdueError,
    NotRemindableError,
    PartialPaymentNotAllowedError,
    PaymentExceedsBalanceError,
    SendSettledError,
)
from risiti.domain.money import currency_exponent
from risiti.domain.numbering import check_chosen_number
from risiti.domain.pricing import (
    ROUNDING_PER_LINE_HALF_UP,
    Discount,
    InvoiceTotals,
    LineInput,
    Tax,
    price_invoice,
)
from risiti.domain.webhook_endpoint import check_url

DRAFT, OPEN, PARTIALLY_PAID, PAID, VOID, DELETED = (
    "draft",
    "open",
    "partially_paid",
    "paid",
    "void",
    "deleted",
)
DOCUMENT_TYPES = ("invoice", "receipt")
# The channels a document is sent through, and what each send request's channel becomes.
EMAIL, SMS = "email", "sms"
REQUESTED, SENT, FAILED, CANCELLED = "requested", "sent", "failed", "cancelled"

# What each status allows (DESIGN.md §4). A refusal names the current status and this list, so a
# client learns what it may do instead.
ALLOWED_ACTIONS: dict[str, tuple[str, ...]] = {
    DRAFT: ("update", "delete", "finalize", "void"),
    OPEN: ("update", "send", "record_payment", "mark_paid", "void"),
    PARTIALLY_PAID: ("update", "send", "record_payment", "mark_paid", "mark_unpaid"),
    PAID: ("update", "send", "mark_unpaid"),
    VOID: (),
    DELETED: (),
}
# How a refusal names each action in a sentence; `{document}` reads "an invoice that is paid".
ACTION_PHRASES: dict[str, str] = {
    "update": "update {document}",
    "delete": "delete {document}",
    "finalize": "finalize {document}",
    "send": "send {document}",
    "record_payment": "record a payment on {document}",
    "mark_paid": "mark {document} as paid",
    "mark_unpaid": "mark {document} as unpaid",
    "void": "void {document}",
}
# The statuses in which an invoice can be overdue: issued and not yet paid (DESIGN.md §4).
CAN_BE_OVERDUE = (OPEN, PARTIALLY_PAID)
# Issued and not fully paid, partly paid included: what a list's `status=unpaid` means (and
# Kredo's `unpaid`, Invoice.ng's `Not Paid`); the same invoices that can fall overdue.
UNPAID = CAN_BE_OVERDUE


def is_past_due(due_date: date | None, today: date) -> bool:
    """Whether a due date has passed on `today`: on its due date an invoice is still on time."""
    return due_date is not None and due_date < today


def is_overdue(status: str, due_date: date | None, today: date) -> bool:
    """The one definition of overdue (DESIGN.md §4): open or partly paid, and due before today.
    The SQL that selects overdue invoices is built from the same two parts (`CAN_BE_OVERDUE`,
    `is_past_due`); tests/integration/test_overdue_rule.py holds the two to the same answers."""
    return status in CAN_BE_OVERDUE and is_past_due(due_date, today)


# The aging report's buckets of what is past due: a name and the days past due it holds, from
# and to (None: no end). What is not past due is `current`.
CURRENT = "current"
PAST_DUE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("over_90", 91, None),
)
AGING_BUCKETS = (CURRENT, *(name for name, _, _ in PAST_DUE_BUCKETS))


def aging_bucket(due_date: date | None, today: date) -> str:
    """The aging bucket of an outstanding amount due on `due_date`, as of `today`."""
    if due_date is None or not is_past_due(due_date, today):
        return CURRENT
    days = (today - due_date).days
    return next(
        name
        for name, first, last in PAST_DUE_BUCKETS
        if first <= days and (last is None or days <= last)
    )


# Once issued, what does not change the amount may still change by an update; the figures, and
# who they are billed to, change by an amendment while no money was received (`Invoice.amend`).
# Never the currency, nor the number it was issued under: void it and issue a new invoice.
EDITABLE_ONCE_ISSUED = frozenset(
    {"note", "due_date", "metadata", "reference", "callback_url", "return_url"}
)
AMENDABLE = EDITABLE_ONCE_ISSUED | {
    "customer",
    "items",
    "taxes",
    "discount",
    "shipping_fee",
    "shipping_taxes",
    "issue_date",
    "description",
}


@dataclass(frozen=True)
class InvoiceDraft:
    """What a business says when it creates an invoice; `Invoice.create` checks it."""

    account_id: UUID
    livemode: bool
    document_type: str
    currency: str
    customer: dict[str, Any]
    items: list[dict[str, Any]]
    issue_date: date
    due_date: date | None = None
    discount: dict[str, Any] | None = None
    taxes: list[dict[str, Any]] = field(default_factory=list)
    """Taxes on every line (an invoice-level tax rate), besides each line's own."""
    shipping_fee: int = 0
    shipping_taxes: list[dict[str, Any]] = field(default_factory=list)
    accept_partial_payments: bool = False
    max_installments: int | None = None
    requested_number: str | None = None
    """A document number the business chose (Duplo's `invoice_number`), instead of the series."""
    description: str | None = None
    reference: str | None = None
    note: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    callback_url: str | None = None
    """Where Risiti POSTs the `invoice.paid` payload once the invoice is paid (Paycashless'
    `callbackUrl`): a webhook receiver of its own, checked as an endpoint's URL is."""
    return_url: str | None = None
    """Where the hosted page sends the customer once they have paid (Paycashless' `returnUrl`)."""


# The fields a draft's update may change: all it was created with except whose and what it is.
DRAFT_FIELDS = frozenset(vars(InvoiceDraft)["__dataclass_fields__"]) - {
    "account_id",
    "livemode",
    "document_type",
}


# A host name or an IP address, as the hosted page names the return URL's origin to browsers.
_HOST_NAME = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+", re.IGNORECASE)


def check_return_url(url: str) -> None:
    """A page the customer's browser is sent to: an http(s) URL with a host. Risiti never
    calls it, so where it resolves is the customer's business, not an SSRF risk."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _HOST_NAME.fullmatch(parts.hostname or ""):
        raise InvalidInvoiceError(
            "return_url must be an http or https URL with a host name.", field="return_url"
        )


def check_draft(draft: InvoiceDraft) -> None:
    """Refuse a draft whose fields break a rule or cannot be priced."""
    if draft.document_type not in DOCUMENT_TYPES:
        raise InvalidInvoiceError("type must be invoice or receipt.", field="type")
    currency_exponent(draft.currency)
    if not isinstance(draft.issue_date, date):
        # A PATCH may send `"issue_date": null`; a draft without one could not be compared.
        raise InvalidInvoiceError("issue_date is required.", field="issue_date")
    if not draft.items:
        raise InvalidInvoiceError("An invoice needs at least one item.", field="items")
    if not str(draft.customer.get("name") or "").strip():
        raise InvalidInvoiceError("The customer needs a name.", field="customer.name")
    checked_email(draft.customer.get("email"), field="customer.email")
    if draft.due_date is not None and draft.due_date < draft.issue_date:
        raise InvalidInvoiceError("due_date is before issue_date.", field="due_date")
    if draft.max_installments is not None and draft.max_installments < 1:
        raise InvalidInvoiceError("max_installments must be at least 1.", field="max_installments")
    if draft.requested_number is not None:
        check_chosen_number(draft.requested_number)
    if draft.callback_url is not None:
        check_url(draft.callback_url, livemode=draft.livemode, field="callback_url")
    if draft.return_url is not None:
        check_return_url(draft.return_url)
    _price(draft.items, draft.discount, draft.taxes, draft.shipping_fee, draft.shipping_taxes)


PRICED_FIELDS = frozenset(
    {"items", "discount", "taxes", "shipping_fee", "shipping_taxes", "rounding"}
)
"""The fields an invoice's totals are priced from: an update of any other keeps them."""


class Invoice(Aggregate):
    """An invoice or a receipt of one account, in one mode (test or live)."""

    @classmethod
    def create(cls, draft: InvoiceDraft, *, view_token: str) -> Invoice:
        """Start a draft after checking that its figures can be priced."""
        check_draft(draft)
        return cls(**vars(draft), view_token=view_token, rounding=ROUNDING_PER_LINE_HALF_UP)

    @event("Created")
    def __init__(
        self,
        *,
        account_id: UUID,
        livemode: bool,
        document_type: str,
        currency: str,
        customer: dict[str, Any],
        items: list[dict[str, Any]],
        issue_date: date,
        due_date: date | None,
        discount: dict[str, Any] | None,
        shipping_fee: int,
        shipping_taxes: list[dict[str, Any]],
        accept_partial_payments: bool,
        reference: str | None,
        note: str | None,
        metadata: dict[str, Any],
        view_token: str,
        rounding: str,
        taxes: list[dict[str, Any]] | None = None,
        max_installments: int | None = None,
        requested_number: str | None = None,
        description: str | None = None,
        callback_url: str | None = None,
        return_url: str | None = None,
    ) -> None:
        self.account_id = account_id
        self.livemode = livemode
        self.document_type = document_type
        self.currency = currency
        self.customer = customer
        self.items = items
        self.issue_date = issue_date
        self.due_date = due_date
        self.discount = discount
        self.taxes = taxes or []
        self.shipping_fee = shipping_fee
        self.shipping_taxes = shipping_taxes
        self.accept_partial_payments = accept_partial_payments
        self.max_installments = max_installments
        self.requested_number = requested_number
        self.description = description
        self.callback_url = callback_url
        self.return_url = return_url
        self.reference = reference
        self.note = note
        self.metadata = metadata
        self.view_token = view_token
        self.rounding = rounding
        self.status = DRAFT
        self.document_number: str | None = None
        self.finalized_at: datetime | None = None
        self.payments: list[dict[str, Any]] = []
        self.amount_paid = 0
        self.send_requests: list[dict[str, Any]] = []
        self.voided_at: datetime | None = None
        self.overdue_for: date | None = None
        """The due date the invoice was last marked overdue for (the `Overdue` event)."""
        self._totals: InvoiceTotals | None = None

    @property
    def totals(self) -> InvoiceTotals:
        """Derived from the lines under the rounding rule recorded at creation; kept until the
        lines change, because followers read it after every event."""
        cached = self._totals
        if cached is None:
            cached = self._totals = self._priced()
        return cached

    def _priced(self) -> InvoiceTotals:
        return _price(
            self.items,
            self.discount,
            self.taxes,
            self.shipping_fee,
            self.shipping_taxes,
            self.rounding,
            check=False,
        )

    @property
    def amount_due(self) -> int:
        return self.totals.total - self.amount_paid

    @property
    def deleted(self) -> bool:
        """A deleted draft: gone from every read but the audit trail."""
        return self.status == DELETED

    @property
    def installments_made(self) -> int:
        return sum(1 for payment in self.payments if payment["reversed_at"] is None)

    def as_draft(self) -> InvoiceDraft:
        """The invoice's editable fields, as a draft would state them."""
        fields = vars(InvoiceDraft)["__dataclass_fields__"]
        return InvoiceDraft(**{name: getattr(self, name) for name in fields})

    def update(self, changes: dict[str, Any]) -> None:
        """Change a draft's fields, or an issued invoice's note, due date, metadata, reference."""
        self._require("update")
        editable = DRAFT_FIELDS if self.status == DRAFT else EDITABLE_ONCE_ISSUED
        refused = sorted(set(changes) - editable)
        if refused:
            raise InvalidStateError(
                f"Cannot change {', '.join(refused)} of {self._a_document} that is {self.status}; "
                f"only {', '.join(sorted(editable))} may change now.",
                current=self.status,
                allowed=ALLOWED_ACTIONS[self.status],
            )
        check_draft(replace(self.as_draft(), **changes))
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if changed:
            # A PATCH that changes nothing appends nothing: no new version, no webhook.
            self._updated(changes=changed)

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

    @event(Updated)
    def _updated(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        if not PRICED_FIELDS.isdisjoint(changes):
            self._totals = None

    def amends(self, changes: dict[str, Any]) -> bool:
        """Whether changing these fields is an amendment rather than an update: the invoice is
        issued and they reach past what an issued invoice may change by an update."""
        return self.status != DRAFT and not set(changes) <= EDITABLE_ONCE_ISSUED

    def amend(self, changes: dict[str, Any], *, amended_at: datetime, reason: str | None) -> None:
        """Change an issued invoice's figures (and customer, dates, description, note...) while
        no money was received on it; the document number never changes. Its history keeps each
        changed field's old and new value, and the total before and after."""
        self._check_amendable()
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        refused = sorted(set(changed) - AMENDABLE)
        if refused:
            raise InvalidStateError(
                f"Cannot change {', '.join(refused)} of {self._a_document} once issued; "
                f"an amendment may change only {', '.join(sorted(AMENDABLE))}. To change "
                f"{'them' if len(refused) > 1 else 'it'}, void it and issue a new invoice.",
                current=self.status,
                allowed=ALLOWED_ACTIONS[self.status],
            )
        amended = replace(self.as_draft(), **changed)
        check_draft(amended)
        if not changed:
            return  # as an update that changes nothing: no new version, no webhook
        total_after = _price(
            amended.items,
            amended.discount,
            amended.taxes,
            amended.shipping_fee,
            amended.shipping_taxes,
            self.rounding,
        ).total
        if total_after == 0:
            raise InvalidInvoiceError(
                "An amended invoice still has an amount to pay; to cancel it, void it.",
                field="items",
            )
        self._amended(
            changes=changed,
            previous={name: getattr(self, name) for name in changed},
            total_before=self.totals.total,
            total_after=total_after,
            reason=reason,
            amended_at=amended_at,
        )

    def _check_amendable(self) -> None:
        """Only an issued invoice nobody has paid is amended; what to do instead otherwise."""
        if self.status == DRAFT:
            raise InvalidStateError(
                f"{self._a_document.capitalize()} that is draft is not amended but updated: "
                "its figures may change freely until it is finalized.",
                current=self.status,
                allowed=ALLOWED_ACTIONS[self.status],
            )
        if self.amount_paid > 0:
            raise InvalidStateError(
                f"Cannot amend {self._a_document} that is {self.status}: "
                f"{self.amount_paid} of its {self.totals.total} {self.currency} was received. "
                "Mark it unpaid first to reverse the payments, then amend it; or, once unpaid, "
                "void it and issue a new invoice.",
                current=self.status,
                allowed=ALLOWED_ACTIONS[self.status],
            )
        if self.status != OPEN:
            raise InvalidStateError(
                f"Cannot amend {self._a_document} that is {self.status}.",
                current=self.status,
                allowed=ALLOWED_ACTIONS[self.status],
            )

    class Amended(Aggregate.Event):
        """An issued invoice's fields changed before any money was received: what each changed
        field became (`changes`) and was (`previous`), and the total before and after."""

        changes: dict[str, Any]
        previous: dict[str, Any]
        total_before: int
        total_after: int
        reason: str | None
        amended_at: datetime

    @event(Amended)
    def _amended(
        self,
        changes: dict[str, Any],
        previous: dict[str, Any],
        total_before: int,
        total_after: int,
        reason: str | None,
        amended_at: datetime,
    ) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self._totals = None  # priced again, under the rounding rule recorded at creation

    def restated(self, changes: dict[str, Any]) -> dict[str, Any]:
        """What restating the invoice (every field sent again, as Invoice.ng's `PUT` sends
        them) changes: the fields whose value differs. Once issued, its number restated as it
        was issued under is no change."""
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        number = changed.get("requested_number")
        if number is not None and number == self.document_number:
            del changed["requested_number"]
        return changed

    def remove(self, *, reason: str | None, removed_at: datetime) -> None:
        """Take the invoice out of use, as a seed's delete means it (Invoice.ng's `DELETE`): a
        draft is deleted; an issued invoice with no money received on it is voided, its number
        staying used in the series; with money received, refused until it is marked not paid."""
        if self.status == DRAFT:
            self.delete()
            return
        if self.amount_paid > 0:
            raise InvalidStateError(
                f"Cannot delete {self._a_document} that is {self.status}: {self.amount_paid} of "
                f"its {self.totals.total} {self.currency} (minor units) was received. Mark it not "
                "paid first, which reverses its payments, then delete it.",
                current=self.status,
                allowed=ALLOWED_ACTIONS[self.status],
            )
        self.void(reason=reason, voided_at=removed_at)

    def settle_as_paid(
        self, *, payment_id: UUID, method: str, reference: str | None, paid_at: datetime
    ) -> None:
        """Paid, as the business says it is (Invoice.ng's "mark as paid"): the balance recorded
        as paid by `mark_paid`; saying so of an invoice that is paid changes nothing."""
        if self.status != PAID:
            self.mark_paid(
                payment_id=payment_id, method=method, reference=reference, paid_at=paid_at
            )

    def settle_as_not_paid(self, *, reason: str | None, reversed_at: datetime) -> None:
        """Nothing received, as the business says (Invoice.ng's "mark as not paid"): every
        payment reversed by `mark_unpaid`; saying so of a draft or open invoice with no payment
        changes nothing."""
        if self.installments_made == 0 and self.status in (DRAFT, OPEN):
            return
        self.mark_unpaid(reason=reason, reversed_at=reversed_at)

    def delete(self) -> None:
        """Remove a draft from reads; its history stays in the log."""
        self._require("delete")
        self._deleted()

    class Deleted(Aggregate.Event):
        pass

    @event(Deleted)
    def _deleted(self) -> None:
        self.status = DELETED

    @property
    def issued_on_creation(self) -> bool:
        """A receipt records a sale already paid for: it is never a draft, but issued (and paid)
        as it is created."""
        return self.document_type == "receipt"

    def issue(
        self, document_number: str, issued_at: datetime, *, paid_by: str | None = None
    ) -> None:
        """Finalize the draft; issued paid when `paid_by` says how it was paid (`status: paid`
        on create), as a receipt always is (DESIGN.md §5; by "other" unless told): its whole
        amount recorded as paid, `Finalized` then `PaymentRecorded`. A document of no amount
        is paid on finalizing already, and gets no payment."""
        self.finalize(document_number=document_number, finalized_at=issued_at)
        method = paid_by or ("other" if self.issued_on_creation else None)
        if method is not None and self.status != PAID:
            self.mark_paid(payment_id=uuid4(), method=method, reference=None, paid_at=issued_at)

    def finalize(self, document_number: str, finalized_at: datetime) -> None:
        """Issue a draft under its number; from then on its figures no longer change."""
        self._require("finalize")
        self._finalized(document_number=document_number, finalized_at=finalized_at)

    class Finalized(Aggregate.Event):
        document_number: str
        finalized_at: datetime

    @event(Finalized)
    def _finalized(self, document_number: str, finalized_at: datetime) -> None:
        self.document_number = document_number
        self.finalized_at = finalized_at
        self.status = OPEN if self.totals.total > 0 else PAID

    def request_sending(
        self, *, email: str | None, phone: str | None, requested_at: datetime
    ) -> None:
        """Ask for the issued invoice to be sent to the customer by email, text, or both."""
        self._require("send")
        if not (email or phone):
            raise InvalidInvoiceError(
                "Say where to send it: an email, a phone number, or both.", field="email"
            )
        self._send_requested(email=email, phone=phone, requested_at=requested_at)

    class SendRequested(Aggregate.Event):
        email: str | None
        phone: str | None
        requested_at: datetime

    @event(SendRequested)
    def _send_requested(self, email: str | None, phone: str | None, requested_at: datetime) -> None:
        self.send_requests.append(_send_request(email, phone, requested_at, reminder_days=None))

    def request_reminder(self, *, reminder_days: int, requested_at: datetime) -> None:
        """Ask for a payment reminder to go to the customer's email and phone: the account's
        schedule says so `reminder_days` after the due date (before it when negative)."""
        if self.status not in (OPEN, PARTIALLY_PAID):
            raise NotRemindableError(
                f"{self._a_document.capitalize()} that is {self.status} gets no reminders."
            )
        email, phone = self.customer.get("email"), self.customer.get("phone")
        if not (email or phone):
            raise NotRemindableError("The customer has neither an email nor a phone number.")
        self._reminder_requested(
            email=email, phone=phone, reminder_days=reminder_days, requested_at=requested_at
        )

    class ReminderRequested(Aggregate.Event):
        email: str | None
        phone: str | None
        reminder_days: int
        requested_at: datetime

    @event(ReminderRequested)
    def _reminder_requested(
        self, email: str | None, phone: str | None, reminder_days: int, requested_at: datetime
    ) -> None:
        self.send_requests.append(_send_request(email, phone, requested_at, reminder_days))

    def why_not_send(self, request: int) -> str | None:
        """Why a send request should no longer go out, or None: nothing goes out for a void or
        deleted invoice, and no reminder for one that is no longer open or partly paid."""
        if self.status in (VOID, DELETED):
            return f"Not sent: the {self.document_type} is {self.status}."
        reminder = self.send_requests[request]["reminder_days"] is not None
        if reminder and self.status not in (OPEN, PARTIALLY_PAID):
            return f"Reminder not sent: the {self.document_type} is {self.status}."
        return None

    def mark_sent(self, *, request: int, channel: str, sent_at: datetime) -> None:
        """Record that one channel of a send request reached its provider."""
        recipient = self._pending_delivery(request, channel)["to"]
        self._sent(request=request, channel=channel, recipient=recipient, sent_at=sent_at)

    class Sent(Aggregate.Event):
        request: int
        channel: str
        recipient: str
        sent_at: datetime

    @event(Sent)
    def _sent(self, request: int, channel: str, recipient: str, sent_at: datetime) -> None:
        delivery = self.send_requests[request]["deliveries"][channel]
        delivery.update(status=SENT, sent_at=sent_at)

    def mark_send_failed(
        self, *, request: int, channel: str, error: str, failed_at: datetime
    ) -> None:
        """Record that one channel of a send request failed for good (or ran out of retries)."""
        recipient = self._pending_delivery(request, channel)["to"]
        self._send_failed(
            request=request, channel=channel, recipient=recipient, error=error, failed_at=failed_at
        )

    class SendFailed(Aggregate.Event):
        request: int
        channel: str
        recipient: str
        error: str
        failed_at: datetime

    @event(SendFailed)
    def _send_failed(
        self, request: int, channel: str, recipient: str, error: str, failed_at: datetime
    ) -> None:
        delivery = self.send_requests[request]["deliveries"][channel]
        delivery.update(status=FAILED, error=error)

    def cancel_sending(
        self, *, request: int, channel: str, reason: str, cancelled_at: datetime
    ) -> None:
        """Record that one channel of a send request was not sent, and why (`why_not_send`)."""
        recipient = self._pending_delivery(request, channel)["to"]
        self._send_cancelled(
            request=request,
            channel=channel,
            recipient=recipient,
            reason=reason,
            cancelled_at=cancelled_at,
        )

    class SendCancelled(Aggregate.Event):
        request: int
        channel: str
        recipient: str
        reason: str
        cancelled_at: datetime

    @event(SendCancelled)
    def _send_cancelled(
        self, request: int, channel: str, recipient: str, reason: str, cancelled_at: datetime
    ) -> None:
        delivery = self.send_requests[request]["deliveries"][channel]
        delivery.update(status=CANCELLED, error=reason)

    def _pending_delivery(self, request: int, channel: str) -> dict[str, Any]:
        """The channel of a send request whose outcome is still to be recorded."""
        known = 0 <= request < len(self.send_requests)
        delivery = self.send_requests[request]["deliveries"].get(channel) if known else None
        if delivery is None or delivery["status"] != REQUESTED:
            state = delivery["status"] if delivery else "not requested"
            raise SendSettledError(f"Send request {request} by {channel} is {state}.")
        found: dict[str, Any] = delivery
        return found

    def record_payment(
        self,
        *,
        payment_id: UUID,
        amount: int,
        method: str,
        reference: str | None,
        paid_at: datetime,
    ) -> None:
        """Record money received (DESIGN.md §5, "the ledger records facts"): whatever its size,
        never more than the amount due. What the customer is offered to pay is another matter
        (`check_customer_payment`): a business that was paid part records that part."""
        self._require("record_payment")
        if amount <= 0:
            raise InvalidInvoiceError("amount must be greater than 0.", field="amount")
        if amount > self.amount_due:
            raise PaymentExceedsBalanceError(amount, self.amount_due)
        self._payment_recorded(
            payment_id=payment_id,
            amount=amount,
            method=method,
            reference=reference,
            paid_at=paid_at,
        )

    @property
    def offers_partial_payment(self) -> bool:
        """Whether the customer may pay part of the amount due on the hosted page and the
        checkout: where the invoice accepts partial payments and this is not the last of its
        `max_installments`, which must pay the balance."""
        last = self.max_installments
        allowed = last is None or self.installments_made + 1 < last
        return self.accept_partial_payments and allowed

    def check_customer_payment(self, amount: int) -> None:
        """Refuse what the hosted page and the checkout do not offer the customer: more than
        the amount due, or part of it where the invoice does not offer partial payment
        (`offers_partial_payment`). The business' own record of a payment is not held to it."""
        self._require("record_payment")
        if amount <= 0:
            raise InvalidInvoiceError("amount must be greater than 0.", field="amount")
        if amount > self.amount_due:
            raise PaymentExceedsBalanceError(amount, self.amount_due)
        if amount == self.amount_due or self.offers_partial_payment:
            return
        if not self.accept_partial_payments:
            raise PartialPaymentNotAllowedError(amount, self.amount_due)
        raise InstallmentLimitError(amount, self.amount_due, self.max_installments or 1)

    def mark_paid(
        self, *, payment_id: UUID, method: str, reference: str | None, paid_at: datetime
    ) -> None:
        """Record the whole balance as paid, however the business was paid it."""
        self._require("mark_paid")
        self._payment_recorded(
            payment_id=payment_id,
            amount=self.amount_due,
            method=method,
            reference=reference,
            paid_at=paid_at,
        )

    class PaymentRecorded(Aggregate.Event):
        payment_id: UUID
        amount: int
        method: str
        reference: str | None
        paid_at: datetime

    @event(PaymentRecorded)
    def _payment_recorded(
        self, payment_id: UUID, amount: int, method: str, reference: str | None, paid_at: datetime
    ) -> None:
        self.payments.append(
            {
                "id": payment_id,
                "amount": amount,
                "method": method,
                "reference": reference,
                "paid_at": paid_at,
                "reversed_at": None,
            }
        )
        self.amount_paid += amount
        self.status = PAID if self.amount_due == 0 else PARTIALLY_PAID

    def mark_unpaid(self, *, reason: str | None, reversed_at: datetime) -> None:
        """Reverse every recorded payment (a bounced transfer, a payment recorded by mistake)."""
        self._require("mark_unpaid")
        if self.installments_made == 0:
            raise InvalidStateError(
                f"{self._a_document.capitalize()} that is {self.status} with no payments has "
                "nothing to mark unpaid.",
                current=self.status,
                allowed=ALLOWED_ACTIONS[self.status],
            )
        unreversed = [p["id"] for p in self.payments if p["reversed_at"] is None]
        self._payments_reversed(payment_ids=unreversed, reason=reason, reversed_at=reversed_at)

    class PaymentsReversed(Aggregate.Event):
        """Version 2 names the payments it reverses, so that the event alone tells an auditor
        what it undid; version 1 meant "every payment not reversed yet"."""

        class_version = 2
        payment_ids: list[UUID] | None
        reason: str | None
        reversed_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["payment_ids"] = None  # what version 1 meant: all not reversed yet

    @event(PaymentsReversed)
    def _payments_reversed(
        self, payment_ids: list[UUID] | None, reason: str | None, reversed_at: datetime
    ) -> None:
        for payment in self.payments:
            named = payment_ids is None or payment["id"] in payment_ids
            if named and payment["reversed_at"] is None:
                payment["reversed_at"] = reversed_at
                payment["reversal_reason"] = reason
                self.amount_paid -= payment["amount"]
        self.status = OPEN if self.amount_paid == 0 else PARTIALLY_PAID

    def void(self, *, reason: str | None, voided_at: datetime) -> None:
        """Cancel a draft, or an issued invoice nobody has paid; its number stays used."""
        self._require("void")
        self._voided(reason=reason, voided_at=voided_at)

    class Voided(Aggregate.Event):
        reason: str | None
        voided_at: datetime

    @event(Voided)
    def _voided(self, reason: str | None, voided_at: datetime) -> None:
        self.status = VOID
        self.voided_at = voided_at
        self.void_reason = reason

    def mark_overdue(self, as_of: date) -> None:
        """Record that an open or partly paid invoice has passed its due date (as of a day).

        Once per due date: a PATCH that moves the due date later re-arms it, so the invoice is
        marked overdue again when the new date has passed too; a due date moved earlier does not
        (the invoice was already reported overdue for a later date). Refused with NotOverdueError
        otherwise, which is what makes the scheduled job safe to run again and concurrently.
        """
        due = self.due_date
        if self.status not in CAN_BE_OVERDUE:
            raise NotOverdueError(
                f"{self._a_document.capitalize()} that is {self.status} is never overdue."
            )
        if due is None or not is_past_due(due, as_of):
            raise NotOverdueError(f"Not past its due date ({due}) on {as_of}.")
        if self.overdue_for is not None and due <= self.overdue_for:
            raise NotOverdueError(f"Already marked overdue for the due date {self.overdue_for}.")
        self._overdue(as_of=as_of, due_date=due)

    class Overdue(Aggregate.Event):
        as_of: date
        due_date: date

    @event(Overdue)
    def _overdue(self, as_of: date, due_date: date) -> None:
        self.overdue_for = due_date

    @property
    def _a_document(self) -> str:
        return "an invoice" if self.document_type == "invoice" else "a receipt"

    def _require(self, action: str) -> None:
        allowed = ALLOWED_ACTIONS[self.status]
        if action not in allowed:
            raise InvalidStateError(
                refusal(action, self._a_document, self.status), current=self.status, allowed=allowed
            )


def refusal(action: str, document: str, status: str) -> str:
    """The sentence refusing `action` on a document in `status`, and what it allows instead:
    "Cannot record a payment on an invoice that is paid. An invoice that is paid allows only:
    update, send, mark_unpaid." (the actions by the names `details.allowed` lists)."""
    allowed = ALLOWED_ACTIONS[status]
    instead = (
        f"{document.capitalize()} that is {status} allows only: {', '.join(allowed)}."
        if allowed
        else f"{document.capitalize()} that is {status} allows no further action."
    )
    refused = ACTION_PHRASES[action].format(document=f"{document} that is {status}")
    return f"Cannot {refused}. {instead}"


def _price(
    items: list[dict[str, Any]],
    discount: dict[str, Any] | None,
    taxes: list[dict[str, Any]],
    shipping_fee: int,
    shipping_taxes: list[dict[str, Any]],
    rounding: str = ROUNDING_PER_LINE_HALF_UP,
    *,
    check: bool = True,
) -> InvoiceTotals:
    """The totals of an invoice's figures under its recorded rounding rule."""
    return price_invoice(
        [
            LineInput(
                quantity=Decimal(item["quantity"]),
                unit_price=item["unit_price"],
                taxes=_taxes(item.get("taxes", []) + taxes),
            )
            for item in items
        ],
        discount=Discount(discount["type"], discount["value"]) if discount else None,
        shipping_fee=shipping_fee,
        shipping_taxes=_taxes(shipping_taxes),
        rounding=rounding,
        check=check,
    )


def _taxes(taxes: list[dict[str, Any]]) -> tuple[Tax, ...]:
    return tuple(
        Tax(Decimal(t["percentage"]), bool(t.get("inclusive", False)), t.get("name", ""))
        for t in taxes
    )


def _send_request(
    email: str | None, phone: str | None, requested_at: datetime, reminder_days: int | None
) -> dict[str, Any]:
    """A send request as the invoice keeps it: where to, when asked, whether it is a reminder,
    and what became of each channel."""
    addresses = ((EMAIL, email), (SMS, phone))
    return {
        "email": email,
        "phone": phone,
        "requested_at": requested_at,
        "reminder_days": reminder_days,
        "deliveries": {
            channel: {"to": to, "status": REQUESTED, "sent_at": None, "error": None}
            for channel, to in addresses
            if to
        },
    }
