"""Account commands: open an account with its test and live keys; find a key's owner."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.domain.account import Account
from risiti.eventstore import lookups


@dataclass(frozen=True)
class OpenedAccount:
    """An account just opened, with the only copy of its secret keys."""

    account_id: UUID
    name: str
    test_key: str
    live_key: str


def hash_api_key(key: str) -> bytes:
    """Keys are 192 random bits, so one SHA-256 suffices; no slow hash is needed."""
    return hashlib.sha256(key.encode()).digest()


def _new_key(livemode: bool) -> tuple[str, str]:
    """A secret key and its public id (for logs and the audit trail)."""
    secret = secrets.token_urlsafe(24)
    prefix = "sk_live_" if livemode else "sk_test_"
    return prefix + secret, ("key_live_" if livemode else "key_test_") + secret[:8]


async def open_account(ledger: Ledger, name: str) -> OpenedAccount:
    """Open an account and issue one test key and one live key."""
    account = Account.open(name)
    keys: dict[bool, str] = {}
    async with ledger.transaction() as tx:
        for livemode in (False, True):
            key, key_id = _new_key(livemode)
            keys[livemode] = key
            await lookups.save_api_key(tx.conn, hash_api_key(key), key_id, account.id, livemode)
            account.issue_api_key(key_id, livemode, datetime.now(UTC))
        await tx.save(account, account_id=account.id, livemode=None)
    return OpenedAccount(account.id, account.name, test_key=keys[False], live_key=keys[True])


@dataclass(frozen=True)
class Authenticated:
    """Who a key stands for, and whether its account requires its requests signed."""

    caller: Caller
    require_signed_requests: bool


async def authenticate(ledger: Ledger, key: str) -> Authenticated | None:
    """The caller a secret key stands for, or None for an unknown or revoked key."""
    async with ledger.connection() as conn:
        owner = await lookups.find_api_key(conn, hash_api_key(key))
    if owner is None:
        return None
    caller = Caller(owner.account_id, owner.livemode, owner.key_id)
    return Authenticated(caller, owner.require_signed_requests)


def account_record(account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "object": "account",
        "name": account.name,
        "require_signed_requests": account.require_signed_requests,
    }


async def get_account(ledger: Ledger, caller: Caller) -> Account:
    return await ledger.get(Account, caller.account_id)


async def require_signed_requests(ledger: Ledger, caller: Caller, required: bool) -> Account:
    """Turn on (or off) the rule that every request of the account carries a signature."""
    async with ledger.transaction() as tx:
        account = await tx.get(Account, caller.account_id)
        account.set_signed_requests(required)
        await lookups.set_signed_requests(tx.conn, account.id, required)
        await tx.save(account, account_id=account.id, livemode=None)
    return account
