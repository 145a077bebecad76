"""The overdue rule of the domain (`risiti.domain.invoice.is_overdue`) as SQL conditions.

Read models keep an invoice's status and due date in columns, and the list's `status=overdue`,
the overdue job's candidates, the balances' overdue amounts and the aging report select by them.
Each condition is built here from the domain's own parts (the statuses that can be overdue, the
past-due comparison, the aging buckets), so that the SQL cannot drift from the Python;
tests/integration/test_overdue_rule.py runs both over a table of cases.
"""

from __future__ import annotations

from risiti.domain.invoice import CAN_BE_OVERDUE, CURRENT, PAST_DUE_BUCKETS

# `is_past_due`: strictly before today, and never without a due date (NULL compares to nothing).
_PAST_DUE = "{due_date} < {today}"


def past_due_sql(today: str, *, due_date: str = "due_date") -> str:
    """`is_past_due(due_date, today)`: `today` and `due_date` are SQL expressions (`$2`)."""
    return _PAST_DUE.format(due_date=due_date, today=today)


def overdue_sql(today: str, *, status: str = "status", due_date: str = "due_date") -> str:
    """`is_overdue(status, due_date, today)` over SQL expressions (columns or parameters)."""
    statuses = ", ".join(f"'{value}'" for value in CAN_BE_OVERDUE)
    return f"{status} IN ({statuses}) AND {past_due_sql(today, due_date=due_date)}"


def aging_bucket_sql(bucket: str, today: str, *, due_date: str = "due_date") -> str:
    """`aging_bucket(due_date, today) == bucket` over SQL expressions."""
    if bucket == CURRENT:
        return f"NOT coalesce({past_due_sql(today, due_date=due_date)}, false)"
    first, last = next((first, last) for name, first, last in PAST_DUE_BUCKETS if name == bucket)
    days = f"({today} - {due_date})"
    return f"{days} >= {first}" + (f" AND {days} <= {last}" if last is not None else "")
