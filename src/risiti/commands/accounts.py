"""Account commands: open an account with its test and live keys; find a key's owner."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.domain.account import DETAIL_FIELDS, Account
from risiti.domain.errors import InvalidFieldError
from risiti.eventstore import accounts


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
            await accounts.save_api_key(tx.conn, hash_api_key(key), key_id, account.id, livemode)
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
        owner = await accounts.find_api_key(conn, hash_api_key(key))
    if owner is None:
        return None
    caller = Caller(owner.account_id, owner.livemode, owner.key_id)
    return Authenticated(caller, owner.require_signed_requests)


def account_record(account: Account, livemode: bool) -> dict[str, Any]:
    """The account as a key of one mode sees it; its Paystack secret key is never shown."""
    return (
        {
            "id": str(account.id),
            "object": "account",
            "name": account.name,
            "require_signed_requests": account.require_signed_requests,
            "paystack_configured": account.has_paystack_secret_key(livemode),
            "reminder_days": account.reminder_days,
            "allow_negative_stock": account.allow_negative_stock,
        }
        | {name: account.details.get(name) for name in DETAIL_FIELDS}
        | {"locale": account.locale}
    )


@dataclass(frozen=True)
class UpdateAccount:
    """What `PATCH /v1/account` changes; None leaves a setting as it is."""

    caller: Caller
    name: str | None = None
    """The business' name, as its customers see it."""
    require_signed_requests: bool | None = None
    paystack_secret_key: str | None = None
    """The caller's mode's Paystack secret key; "" removes it."""
    reminder_days: list[int] | None = None
    """Days around the due date on which customers are reminded; [] stops reminders."""
    details: dict[str, str | None] = field(default_factory=dict)
    """Contact, bank account and locale shown to customers; None or "" clears one."""
    allow_negative_stock: bool | None = None


async def update_account(ledger: Ledger, command: UpdateAccount) -> Account:
    """Change the account's name and settings: whether every request carries a signature
    (DESIGN.md §6), the Paystack secret key of the caller's mode, kept beside the log, never in
    an event, and the reminder schedule, copied beside the log for the reminders job."""
    caller = command.caller
    async with ledger.transaction() as tx:
        account = await tx.get(Account, caller.account_id)
        if command.name is not None:
            account.rename(command.name)
        if command.require_signed_requests is not None:
            account.set_signed_requests(command.require_signed_requests)
        if command.details:
            account.change_details(command.details)
        if command.paystack_secret_key is not None:
            secret_key = command.paystack_secret_key or None
            prefix = "sk_live_" if caller.livemode else "sk_test_"
            if secret_key is not None and not secret_key.startswith(prefix):
                raise InvalidFieldError(
                    f"A {'live' if caller.livemode else 'test'} key takes the Paystack secret key "
                    f"of the same mode, starting {prefix}.",
                    field="paystack_secret_key",
                )
            account.set_paystack_secret_key(
                caller.livemode, configured=secret_key is not None, set_at=datetime.now(UTC)
            )
            await accounts.set_paystack_secret_key(tx.conn, account.id, caller.livemode, secret_key)
        if command.reminder_days is not None:
            account.schedule_reminders(command.reminder_days)
        if command.allow_negative_stock is not None:
            account.set_negative_stock(command.allow_negative_stock)
        # With the settings that the edge and the jobs read beside the log (`side_tables`).
        await tx.save(account, account_id=account.id, livemode=None)
    return account
