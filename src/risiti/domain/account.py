"""The Account aggregate: a business, its secret keys (hashed elsewhere) and its settings."""

from __future__ import annotations

import re
from datetime import datetime

from babel import Locale, UnknownLocaleError
from eventsourcing.domain import Aggregate, event

from risiti.domain.errors import InvalidFieldError
from risiti.domain.reminders import check_schedule

# What a business shows its customers on the hosted page and the PDF: how to reach it, how to
# pay it by bank transfer (as Duplo's invoices show the bank and account), and in which locale
# its amounts and dates are written.
DETAIL_FIELDS = (
    "contact_email",
    "contact_phone",
    "address",
    "bank_name",
    "bank_account_name",
    "bank_account_number",
    "locale",
)
DEFAULT_LOCALE = "en_NG"
MAX_NAME_LENGTH = 200
# NUBAN is ten digits; other countries' numbers (IBANs) hold letters and spaces too.
_ACCOUNT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,40}")


class Account(Aggregate):
    """A business that uses Risiti."""

    @classmethod
    def open(cls, name: str) -> Account:
        """Open an account for a business."""
        if not name.strip():
            raise InvalidFieldError("An account needs a name.", field="name")
        return cls(name=name.strip())

    def rename(self, name: str) -> None:
        """Change the business' name, which its customers see on the hosted page, the PDF and
        the messages sent them: 1 to 200 characters. Appends nothing when it is the same."""
        name = name.strip()
        if not 1 <= len(name) <= MAX_NAME_LENGTH:
            raise InvalidFieldError(
                f"An account's name has 1 to {MAX_NAME_LENGTH} characters.", field="name"
            )
        if name != self.name:
            self._renamed(name=name)

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name
        self.api_keys: dict[str, bool] = {}
        self.require_signed_requests = False
        self.paystack_configured: dict[bool, bool] = {}
        self.reminder_days: list[int] = []
        self.details: dict[str, str] = {}
        self.allow_negative_stock = False

    @property
    def locale(self) -> str:
        return self.details.get("locale", DEFAULT_LOCALE)

    def change_details(self, changes: dict[str, str | None]) -> None:
        """Set (or, with None or "", clear) what customers are shown: contact, bank account,
        locale. Appends nothing when nothing changes."""
        unknown = sorted(set(changes) - set(DETAIL_FIELDS))
        if unknown:
            raise InvalidFieldError(f"Unknown account detail {unknown[0]}.", field=unknown[0])
        cleaned = _checked_details(
            {name: (value or "").strip() or None for name, value in changes.items()}
        )
        changed = {k: v for k, v in cleaned.items() if self.details.get(k) != v}
        if changed:
            self._details_changed(changes=changed)

    @event("DetailsChanged")
    def _details_changed(self, changes: dict[str, str | None]) -> None:
        for name, value in changes.items():
            if value is None:
                self.details.pop(name, None)
            else:
                self.details[name] = value

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

    def schedule_reminders(self, reminder_days: list[int]) -> None:
        """Set the days around the due date on which open invoices' customers are reminded;
        an empty list sends no reminders."""
        days = check_schedule(reminder_days)
        if days != self.reminder_days:
            self._reminders_scheduled(reminder_days=days)

    @event("RemindersScheduled")
    def _reminders_scheduled(self, reminder_days: list[int]) -> None:
        self.reminder_days = reminder_days

    def set_negative_stock(self, allowed: bool) -> None:
        """Allow (or stop allowing) stock to go below zero (docs/api.md, "Inventory")."""
        if allowed != self.allow_negative_stock:
            self._negative_stock_allowed(allowed=allowed)

    @event("NegativeStockAllowed")
    def _negative_stock_allowed(self, allowed: bool) -> None:
        self.allow_negative_stock = allowed


def _checked_details(details: dict[str, str | None]) -> dict[str, str | None]:
    """The details with the locale in its canonical spelling (en_NG), or InvalidFieldError."""
    number = details.get("bank_account_number")
    if number is not None and not _ACCOUNT_NUMBER.fullmatch(number):
        raise InvalidFieldError(
            "bank_account_number holds letters, digits, spaces and dashes (e.g. 0123456789).",
            field="bank_account_number",
        )
    locale = details.get("locale")
    if locale is not None:
        try:
            details = details | {"locale": str(Locale.parse(locale))}
        except (UnknownLocaleError, ValueError):
            raise InvalidFieldError(
                f"Unknown locale {locale!r}; use a CLDR locale such as en_NG or fr_SN.",
                field="locale",
            ) from None
    return details
