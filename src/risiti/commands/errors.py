"""Errors of the service layer."""

from __future__ import annotations


class CommandError(Exception):
    """Base of the service layer's errors."""


class NotFoundError(CommandError):
    """Raised when the named object does not exist in the caller's account and mode."""

    def __init__(self, kind: str, identifier: object) -> None:
        super().__init__(f"No {kind} with id '{identifier}'.")
        self.kind = kind
        self.identifier = identifier


class ConcurrentUpdateError(CommandError):
    """Raised when a command kept losing races to other writers of the same aggregate."""
