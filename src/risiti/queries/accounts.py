"""Reading the caller's account (its settings, contact and bank details)."""

from __future__ import annotations

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.domain.account import Account


async def get_account(ledger: Ledger, caller: Caller) -> Account:
    return await ledger.get(Account, caller.account_id)
