"""The scheduled job that asks for payment reminders by each account's schedule (docs/api.md,
"Sending invoices and reminders"). Runs may overlap, repeat or follow an outage: each reminder
is asked for at most once, and after an outage only the latest one due."""

from __future__ import annotations

import logging
from typing import Any

from risiti.commands.ledger import Ledger
from risiti.commands.reminders import request_due_reminders
from risiti.domain import calendar

log = logging.getLogger(__name__)


async def send_reminders(ctx: dict[str, Any]) -> int:
    """Ask for the reminders whose day has come today (UTC); how many it asked for."""
    run = await request_due_reminders(
        Ledger(ctx["pool"], actor="job:send_reminders"), calendar.today()
    )
    if run.requested:
        log.info("asked for %d reminders of %d invoices", run.requested, run.examined)
    return run.requested
