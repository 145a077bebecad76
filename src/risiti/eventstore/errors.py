"""Errors of the event store."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of the event store's errors."""


class VersionConflictError(EventStoreError):
    """Raised when an appended event's (originator_id, originator_version) is already taken.

    Another writer appended to the same aggregate first; reload it and decide again.
    """


class AggregateNotFoundError(EventStoreError):
    """Raised when no event was ever recorded for an aggregate id."""
