"""Reading the caller's account (its settings, contact and bank details, and the secret that
signs its invoice callbacks)."""

from __future__ import annotations

from risiti.commands import webhook_endpoints
from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.domain.account import Account


async def get_account(ledger: Ledger, caller: Caller) -> Account:
    return await ledger.get(Account, caller.account_id)


async def callback_signing_secret(ledger: Ledger, caller: Caller) -> str:
    """The secret that signs the account's invoice callbacks in the caller's mode; made the
    first time it is read, if no callback has made it yet (docs/webhooks.md)."""
    async with ledger.transaction() as tx:
        return await webhook_endpoints.callback_signing_secret(
            tx.conn, caller.account_id, caller.livemode
        )
