"""Where a page of a list starts: opaque (created_at, id) cursors of newest-first lists, and the
bound of the numeric cursors (log positions, feed sequences, checkpoint sequences)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from uuid import UUID

Place = tuple[datetime, UUID]

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
