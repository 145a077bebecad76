"""Typed keys of the application and of requests: the one wiring point's names."""

from __future__ import annotations

from aiohttp import web

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.config import Settings

SETTINGS = web.AppKey("settings", Settings)
LEDGER = web.AppKey("ledger", Ledger)
CALLER = web.RequestKey("caller", Caller)
JOINED_LEDGER = web.RequestKey("joined_ledger", Ledger)


def ledger_for(request: web.Request) -> Ledger:
    """The ledger a handler uses: one joined to the request's own transaction when the request
    carries an Idempotency-Key (its stored response commits with the events), else the app's;
    acting as the caller's key, so the audit trail says which key appended each event."""
    ledger = request.get(JOINED_LEDGER) or request.app[LEDGER]
    caller = request.get(CALLER)
    return ledger.acting_as(caller.key_id) if caller is not None else ledger
