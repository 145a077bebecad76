"""Payment reminders: an account's schedule of days around the due date, and which of its days
an invoice is due a reminder for (docs/api.md, "Sending invoices and reminders")."""

from __future__ import annotations

from datetime import date, timedelta

from risiti.domain.errors import InvalidFieldError

MAX_REMINDERS = 10
MAX_DAYS_FROM_DUE = 365


def check_schedule(reminder_days: list[int]) -> list[int]:
    """The schedule in order, without repeats; refused if it is too long or reaches too far."""
    days = sorted(set(reminder_days))
    if len(days) > MAX_REMINDERS:
        raise InvalidFieldError(f"At most {MAX_REMINDERS} reminder days.", field="reminder_days")
    if any(abs(day) > MAX_DAYS_FROM_DUE for day in days):
        raise InvalidFieldError(
            f"Reminder days are between -{MAX_DAYS_FROM_DUE} and {MAX_DAYS_FROM_DUE}.",
            field="reminder_days",
        )
    return days


def latest_due_reminder(
    reminder_days: list[int], *, due_date: date, issue_date: date, as_of: date
) -> int | None:
    """The latest day of the schedule that has come on `as_of`, or None.

    Only the latest: after an outage of several days, the customer gets the one reminder that
    fits the invoice now, not one per day missed. A day that fell before the invoice was issued
    never comes (an invoice issued two days before its due date gets no "due in a week" mail).
    """
    come = [day for day in reminder_days if issue_date <= due_date + timedelta(days=day) <= as_of]
    return max(come) if come else None
