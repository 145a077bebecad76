"""The caller's own account: its name and whether it requires signed requests."""

from __future__ import annotations

from aiohttp import web

from risiti.api.auth import KEY_CACHE
from risiti.api.envelope import ok, parse_body
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import UpdateAccountRequest
from risiti.commands import accounts

routes = web.RouteTableDef()


@routes.get("/v1/account")
async def get_account(request: web.Request) -> web.Response:
    account = await accounts.get_account(ledger_for(request), request[CALLER])
    return ok(accounts.account_record(account))


@routes.patch("/v1/account")
async def update_account(request: web.Request) -> web.Response:
    body = await parse_body(request, UpdateAccountRequest)
    account = await accounts.require_signed_requests(
        ledger_for(request), request[CALLER], body.require_signed_requests
    )
    request.app[KEY_CACHE].forget_account(account.id)
    return ok(accounts.account_record(account))
