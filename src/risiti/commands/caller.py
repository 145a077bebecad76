"""Who sends a command, and what of the ledger is theirs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from risiti.commands.errors import NotFoundError

if TYPE_CHECKING:
    from risiti.commands.ledger import Ledger, LedgerTransaction

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Caller:
    """Who sends a command: an account, in test or live mode, through one of its keys."""

    account_id: UUID
    livemode: bool
    key_id: str


async def get_owned(
    source: Ledger | LedgerTransaction,
    cls: type[A],
    aggregate_id: UUID,
    caller: Caller,
    *,
    named: object = None,
) -> A:
    """The caller's aggregate, read through a ledger or in a transaction. Another account's or
    mode's, or a deleted one (a draft, an endpoint), does not exist for this caller: NotFoundError
    naming it as the caller did (`named`, by default its id)."""
    kind = kind_of(cls)
    try:
        aggregate = await source.get(cls, aggregate_id)
    except NotFoundError:
        raise NotFoundError(kind, aggregate_id) from None
    if not is_callers(aggregate, caller):
        raise NotFoundError(kind, aggregate_id if named is None else named)
    return aggregate


def is_callers(aggregate: object, caller: Caller) -> bool:
    """Whether an aggregate is the caller's account's, in the caller's mode, and not deleted."""
    owner = getattr(aggregate, "account_id", None), getattr(aggregate, "livemode", None)
    return owner == (caller.account_id, caller.livemode) and not getattr(
        aggregate, "deleted", False
    )


def kind_of(cls: type[Aggregate]) -> str:
    """How errors name a kind of aggregate: `WebhookEndpoint` is a "webhook endpoint"."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()
