"""Rows that are written by the events' own statement: an INSERT beside the log that nothing
reads back before the events are appended (an invoice's hosted-page token, its document number)
waits for the append, and goes in the same statement as a data-modifying WITH, so that it costs
no round trip of its own."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RowWrite:
    """One INSERT (parameters $1…$n) into `table`, written with the next append."""

    sql: str
    args: tuple[Any, ...]
    table: str
    taken: str | None = None
    """What RowTakenError names when the row's unique key is another's (None: not expected)."""


def with_row_writes(statement: str, args: Sequence[Any], rows: Sequence[RowWrite]) -> str:
    """`statement` (parameters $1…$len(args)) preceded by `rows` as data-modifying WITH
    queries, their parameters numbered after the statement's: all run once, in one statement."""
    queries, offset = [], len(args)
    for number, row in enumerate(rows):
        queries.append(f"row_{number} AS ({_renumbered(row.sql, offset)})")
        offset += len(row.args)
    return f"WITH {', '.join(queries)} {statement}" if queries else statement


def _renumbered(sql: str, offset: int) -> str:
    """`sql` with each parameter $n written $(n + offset)."""
    return re.sub(r"\$(\d+)", lambda found: f"${int(found.group(1)) + offset}", sql)


def row_args(rows: Sequence[RowWrite]) -> list[Any]:
    return [arg for row in rows for arg in row.args]
