"""The overdue rule is defined once, in Python (`is_overdue`); the SQL that selects overdue
invoices is built from it (`overdue_sql`, `past_due_sql`). PostgreSQL and Python must give the
same answer for every status and for due dates on both sides of today, and without one."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest

from risiti.domain.invoice import (
    AGING_BUCKETS,
    DELETED,
    DRAFT,
    OPEN,
    PAID,
    PARTIALLY_PAID,
    VOID,
    aging_bucket,
    is_overdue,
    is_past_due,
)
from risiti.eventstore.overdue_sql import aging_bucket_sql, overdue_sql, past_due_sql

pytestmark = pytest.mark.asyncio

TODAY = date(2026, 4, 15)
STATUSES = (DRAFT, OPEN, PARTIALLY_PAID, PAID, VOID, DELETED)
DUE_DATES = (
    None,
    TODAY - timedelta(days=365),
    TODAY - timedelta(days=1),
    TODAY,
    TODAY + timedelta(days=1),
    date(2025, 12, 31),
    *(TODAY - timedelta(days=days) for days in (30, 31, 60, 61, 90, 91)),
)
CASES = [(status, due, TODAY) for status in STATUSES for due in DUE_DATES]


async def _sql_answers(pool: asyncpg.Pool, condition: str) -> list[bool]:
    """The condition evaluated by PostgreSQL over the table of cases, in order; a NULL (no due
    date) is read as not selected, which is what a WHERE clause does with it."""
    rows = await pool.fetch(
        "SELECT coalesce(" + condition + ", false) AS answer"
        " FROM unnest($1::text[], $2::date[], $3::date[]) WITH ORDINALITY"
        " AS cases(status, due_date, today, n) ORDER BY n",
        [status for status, _, _ in CASES],
        [due for _, due, _ in CASES],
        [today for _, _, today in CASES],
    )
    return [row["answer"] for row in rows]


async def test_the_sql_of_overdue_agrees_with_is_overdue(pool: asyncpg.Pool) -> None:
    answers = await _sql_answers(
        pool, overdue_sql("cases.today", status="cases.status", due_date="cases.due_date")
    )
    expected = [is_overdue(status, due, today) for status, due, today in CASES]
    assert answers == expected
    assert any(expected) and not all(expected)


async def test_the_sql_of_past_due_agrees_with_is_past_due(pool: asyncpg.Pool) -> None:
    answers = await _sql_answers(pool, past_due_sql("cases.today", due_date="cases.due_date"))
    assert answers == [is_past_due(due, today) for _, due, today in CASES]


async def test_the_sql_of_each_aging_bucket_agrees_with_aging_bucket(pool: asyncpg.Pool) -> None:
    for bucket in AGING_BUCKETS:
        answers = await _sql_answers(
            pool, aging_bucket_sql(bucket, "cases.today", due_date="cases.due_date")
        )
        assert answers == [aging_bucket(due, today) == bucket for _, due, today in CASES], bucket


async def test_the_overdue_sql_takes_parameters_as_well_as_columns(pool: asyncpg.Pool) -> None:
    for status, due, today in CASES:
        answer = await pool.fetchval(
            f"SELECT coalesce({overdue_sql('$3::date', status='$1::text', due_date='$2::date')},"
            " false)",
            status,
            due,
            today,
        )
        assert answer is is_overdue(status, due, today), (status, due)
