"""Typed keys of the application and of requests: the one wiring point's names."""

from __future__ import annotations

from aiohttp import web

from risiti.commands.caller import Caller
from risiti.commands.ledger import Ledger
from risiti.config import Settings

SETTINGS = web.AppKey("settings", Settings)
LEDGER = web.AppKey("ledger", Ledger)
CALLER = web.RequestKey("caller", Caller)
