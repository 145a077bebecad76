"""The caller's own account: its name, whether it requires signed requests, whether its
Paystack secret key is set (the key itself is write-only), and the secret that signs its
invoice callbacks."""

from __future__ import annotations

from aiohttp import web

from risiti.api.auth import KEY_CACHE
from risiti.api.envelope import ok, parse_body
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import UpdateAccountRequest
from risiti.commands import accounts
from risiti.domain.account import DETAIL_FIELDS, Account
from risiti.queries import accounts as account_queries


async def get_account(request: web.Request) -> web.Response:
    account = await account_queries.get_account(ledger_for(request), request[CALLER])
    return await _account_response(request, account)


async def _account_response(request: web.Request, account: Account) -> web.Response:
    """The account as the caller's mode sees it, with the secret signing its callbacks."""
    secret = await account_queries.callback_signing_secret(ledger_for(request), request[CALLER])
    record = accounts.account_record(account, request[CALLER].livemode)
    return ok(record | {"callback_signing_secret": secret})


async def update_account(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateAccountRequest)
    caller = request[CALLER]
    account = await accounts.update_account(
        ledger_for(request),
        accounts.UpdateAccount(
            caller,
            name=body.name,
            require_signed_requests=body.require_signed_requests,
            paystack_secret_key=body.paystack_secret_key,
            reminder_days=body.reminder_days,
            details=body.model_dump(include=set(DETAIL_FIELDS), exclude_unset=True),
            allow_negative_stock=body.allow_negative_stock,
        ),
    )
    request.app[KEY_CACHE].forget_account(account.id)
    return await _account_response(request, account)
