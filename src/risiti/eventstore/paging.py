"""Opaque list cursors: the (created_at, id) place of a row in a newest-first list."""

from __future__ import annotations

import base64
from datetime import datetime
from uuid import UUID

Place = tuple[datetime, UUID]


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Place:
    """Raises ValueError for a cursor this service did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except UnicodeDecodeError as error:
        raise ValueError("not a cursor") from error
    created_at, _, row_id = raw.partition("|")
    return datetime.fromisoformat(created_at), UUID(row_id)
