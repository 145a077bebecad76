"""Errors of the event store."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of the event store's errors."""


class VersionConflictError(EventStoreError):
    """Raised when an appended event's (originator_id, originator_version) is already taken.

    Another writer appended to the same aggregate first; reload it and decide again.
    """


class AppendOutOfOrderError(VersionConflictError):
    """Raised when an aggregate's previous version was appended by a transaction younger than
    the appending one: this one took its xid (at its first write) before the other, which then
    appended and committed, and followers, who read the log in transaction id order, would see
    the new version before the previous one.

    Decide again in a new transaction, whose xid is younger than every committed one; a
    savepoint of this transaction keeps its xid and would be refused again.
    """


class AggregateNotFoundError(EventStoreError):
    """Raised when no event was ever recorded for an aggregate id."""


class RowTakenError(EventStoreError):
    """Raised when a row that must be unique beside the events (a document number of an
    account and mode) is already held by another aggregate."""
