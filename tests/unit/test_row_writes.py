"""Rows written by the events' own statement (eventstore/row_writes.py)."""

from __future__ import annotations

from risiti.eventstore.row_writes import RowWrite, row_args, with_row_writes


def test_rows_go_before_the_statement_with_their_parameters_numbered_after_its() -> None:
    rows = [
        RowWrite("INSERT INTO a (x, y) VALUES ($1, $2)", ("x", "y"), "a"),
        RowWrite("INSERT INTO b (z) VALUES ($1)", ("z",), "b"),
    ]

    statement = with_row_writes("INSERT INTO events SELECT $1, $2", [1, 2], rows)

    assert statement == (
        "WITH row_0 AS (INSERT INTO a (x, y) VALUES ($3, $4)),"
        " row_1 AS (INSERT INTO b (z) VALUES ($5)) INSERT INTO events SELECT $1, $2"
    )
    assert row_args(rows) == ["x", "y", "z"]


def test_without_rows_the_statement_is_unchanged() -> None:
    assert with_row_writes("SELECT $1", [1], []) == "SELECT $1"
