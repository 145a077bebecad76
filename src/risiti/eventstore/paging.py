"""Where a page of a list starts: opaque (created_at, id) cursors of newest-first lists, the
backward page of `ending_before`, and the bound of the numeric cursors (log positions, feed
sequences, checkpoint sequences)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

Place = tuple[datetime, UUID]
Row = TypeVar("Row")

MAX_POSITION = 2**63 - 1
"""The largest bigint: every position, sequence and version the store keeps is one, so a
numeric cursor past it names nothing and is refused before it reaches a query."""


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Place:
    """Raises ValueError for a cursor this service did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (UnicodeDecodeError, binascii.Error) as error:
        raise ValueError("not a cursor") from error
    created_at, _, row_id = raw.partition("|")
    place = datetime.fromisoformat(created_at), UUID(row_id)
    if place[0].tzinfo is None:
        raise ValueError("not a cursor: its time has no offset")
    try:
        # Ours are in UTC; one whose UTC time is off the calendar would fail in the query.
        place[0].astimezone(UTC)
    except OverflowError as error:
        raise ValueError("not a cursor: its time is off the calendar") from error
    return place


def seek(*, backward: bool) -> tuple[str, str]:
    """How a page's query compares (created_at, id) with its edge, and how it orders: forward,
    the older rows newest first; backward (`ending_before`), the newer rows oldest first, so that
    LIMIT keeps the ones nearest the edge (`newest_first` then turns them round)."""
    return (">", "ASC") if backward else ("<", "DESC")


def newest_first(rows: Sequence[Row], limit: int, *, backward: bool) -> tuple[list[Row], bool]:
    """The page of rows a query fetched (one more than `limit`, to know whether more lie beyond),
    newest first, and whether more lie beyond it in the direction read: older rows forward,
    newer rows backward."""
    page = list(rows[:limit])
    if backward:
        page.reverse()
    return page, len(rows) > limit


def cursor_after(page: Sequence[Any], has_more: bool, *, backward: bool) -> str | None:
    """The cursor of the page after this one, older: forward only when more lie beyond; a
    backward page always has older rows after it (at least the row it ended before)."""
    if not page or not (has_more or backward):
        return None
    return encode_cursor(page[-1]["created_at"], page[-1]["id"])
