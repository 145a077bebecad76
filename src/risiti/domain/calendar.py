"""What day it is, for every rule that depends on the day (overdue, aging, reminders).

One clock in UTC for every process: the api answering `overdue`, the job marking invoices
overdue and the hosted page all agree on the day whatever the server's local time zone is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def today() -> date:
    """Today in UTC."""
    return datetime.now(UTC).date()
