"""Who sends a command."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Caller:
    """Who sends a command: an account, in test or live mode, through one of its keys."""

    account_id: UUID
    livemode: bool
    key_id: str
