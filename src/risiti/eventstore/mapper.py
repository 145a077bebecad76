"""How domain events become stored records: eventsourcing's Mapper with a JSON transcoder."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from asyncpg.pgproto.pgproto import UUID as AsyncpgUUID
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)


class DateAsISO(Transcoding):
    """Represents `date` objects as ISO strings."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class AsyncpgUUIDAsHex(UUIDAsHex):
    """asyncpg reads uuid columns as its own UUID subclass; store it as any other UUID."""

    type = AsyncpgUUID


def create_mapper() -> Mapper[UUID]:
    """The one mapper every reader and writer of the log uses."""
    transcoder = JSONTranscoder()
    for transcoding in (
        AsyncpgUUIDAsHex(),
        UUIDAsHex(),
        DecimalAsStr(),
        DatetimeAsISO(),
        DateAsISO(),
    ):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)
